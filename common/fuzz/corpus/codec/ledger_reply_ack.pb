è aÊN3w˚”bj!yfÙê⁄ë8gRc›7-∫9nRùà"Êc2sp.org/tlog-proof@v1
index 2
qzlZaJ0/rDOY9/+AeSAwofcAsrC1KfeFW7nfYnJy8zc=
yfc6owqdtvlt7nCitLTQ7cKwAfjNsdVxcYlERlpKHgk=
7dwqGBSrOzd0N8rhp8e+YQpsVQYIBOJB4LxRGvj5ZV8=

fuzz.cairn.example/log
6
4YdpYMpIJZJdPaOBt9n1ExfL6lfIcIucDBxTNDXm2kg=

‚Äî fuzz.cairn.example/log F4Y4BlIXldZFRlhGrKUHRYaMacruwzqTQhaTGSdMoVQWwAvHMi6z3g4ymk9vIvEgt5tsvWnZ+duPE6UFuagj85BCXgw=
((