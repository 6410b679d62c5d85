
github:acme/shop#42@
