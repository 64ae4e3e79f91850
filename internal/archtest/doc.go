// Package archtest holds no code, only a test: it checks the import
// direction of DESIGN §1 on every package of the module, for each operating
// system the module builds on, and that the library's go.mod requires
// nothing beyond golang.org/x/sys and github.com/valyala/bytebufferpool.
//
// The allowed imports are:
//
//	poller, codec, internal/*   nothing of ours, except:
//	internal/offload            internal/metrics (ADR 0003)
//	loop                        poller, internal/buffer, internal/sock, internal/affinity,
//	                            internal/metrics (ADR 0003)
//	engine                      loop, poller, codec, internal/offload, internal/affinity, internal/sock
//	cmd/...                     public packages only (nothing under internal/)
//
// A package that matches no rule fails the test too: adding a package
// means deciding where it sits, here. Only the packages' own imports are
// checked; test files may import what they need.
package archtest
