module github.com/pinion-net/pinion

go 1.26.8

require (
	github.com/valyala/bytebufferpool v1.0.0
	golang.org/x/sys v0.49.0
)
