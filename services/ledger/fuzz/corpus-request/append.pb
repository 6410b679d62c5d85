
½
'ce:https://github.com/acme/shop
3f1e-42‘
Ž
3f1e-42https://github.com/acme/shop1.0""dev.cdevents.change.reviewed.0.2.0ZV
	acme/shop(0123456789abcdef0123456789abcdef01234567"github:acme/shop#42:prodBshopbJ
alicealice"bob2granted’db/migrations/0042_cards.sql’	src/pay.c xj
test_reportsuccess
