module example.com/preset-go

go 1.19
