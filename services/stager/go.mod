module github.com/kallahq/kalla/services/stager

go 1.26

replace (
	github.com/kallahq/kalla/gen => ../../gen
	github.com/kallahq/kalla/libs => ../../libs
)
