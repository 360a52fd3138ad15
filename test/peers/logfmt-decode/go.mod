module jobmeter.test/logfmt-decode

go 1.21

require github.com/go-logfmt/logfmt v0.6.0
