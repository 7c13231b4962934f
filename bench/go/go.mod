module beskid.bench

go 1.19
