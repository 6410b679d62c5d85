
'
github:acme/shop#42
deploymentprod