"«"dev.cdevents.change.reviewed.0.2.0github:acme/shop#422‘

3f1e-42https://github.com/acme/shop1.0""dev.cdevents.change.reviewed.0.2.0ZV
	acme/shop(0123456789abcdef0123456789abcdef01234567"github:acme/shop#42:prodBshopbJ
alicealice"bob2granted’db/migrations/0042_cards.sql’	src/pay.c xj
test_reportsuccess
: aæN3wûÓbj!yfôÚ‘8gRcİ7-º9nRˆJ¹cairn.ledger/entry/v1
origin fuzz.cairn.example/log
index 0
topic dev.cdevents.change.reviewed.0.2.0
key sha256:1111111111111111111111111111111111111111111111111111111111111111
payload sha256:ef37ab01e914b52a01210c5d5e51824fcd4c7c70b4e6fbd4393a8d74198736df
change github:acme/shop#42
prev none
time 1700000000000
"áverdict.deploymentgithub:acme/shop#42253
github:acme/shop#42prod"
deployment(Zpayments: i¨0—Ù°ø+`™æ¹ª÷›¸øñÙŠš™¼œæ[.JÚcairn.ledger/entry/v1
origin fuzz.cairn.example/log
index 1
topic verdict.deployment
payload sha256:2066d6c05a5c27b4eef4819f78710ddedba4176638e595e2df5942a386644816
change github:acme/shop#42
prev 0
time 1700000000001
(2´
¿fuzz.cairn.example/log
6
k5jRC0ozwEzz0u0ZYOKb3ZLOS0s17jSrl94xm/1R/Tc=

â€” fuzz.cairn.example/log F4Y4Bgm4mZwVIC6MOizgD6+/3V0yPwpCLtkauFSZbjB2rTlzrasIdLJ4W3484N7igeHZO8fr03AF4EcRp3No3ZX2yQ4=
Lfuzz.cairn.example/log+17863806+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c" “˜ÑJ3ÀLóÒí`â›İ’ÎKK5î4«—Ş1›ıQı7