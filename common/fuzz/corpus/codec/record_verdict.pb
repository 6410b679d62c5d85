3
github:acme/shop#42prod"
deployment(Zpayments