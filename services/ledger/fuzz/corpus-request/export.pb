B
github:acme/shop#42