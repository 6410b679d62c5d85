"dev.cdevents.change.reviewed.0.2.0github:acme/shop#422ë
é
3f1e-42https://github.com/acme/shop1.0""dev.cdevents.change.reviewed.0.2.0ZV
	acme/shop(0123456789abcdef0123456789abcdef01234567"github:acme/shop#42:prodBshopbJ
alicealice"bob2grantedídb/migrations/0042_cards.sqlí	src/pay.c†xj
test_reportsuccess
: aÊN3w˚”bj!yfÙê⁄ë8gRc›7-∫9nRùàJπcairn.ledger/entry/v1
origin fuzz.cairn.example/log
index 0
topic dev.cdevents.change.reviewed.0.2.0
key sha256:1111111111111111111111111111111111111111111111111111111111111111
payload sha256:ef37ab01e914b52a01210c5d5e51824fcd4c7c70b4e6fbd4393a8d74198736df
change github:acme/shop#42
prev none
time 1700000000000
