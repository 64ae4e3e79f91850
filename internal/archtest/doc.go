// Package archtest holds no code, only tests: they check the import
// direction of docs/architecture.md ("Packages and imports") on every
// package of the module, for each operating system the module builds on;
// that engine's exported API names no internal type (ADR 0006); and that the
// library's go.mod requires nothing beyond golang.org/x/sys and
// github.com/valyala/bytebufferpool.
//
// The allowed imports are:
//
//	poller, codec, internal/*   nothing of ours, except:
//	internal/offload            internal/metrics (ADR 0003)
//	internal/loop               poller, internal/buffer, internal/sock, internal/affinity,
//	                            internal/metrics (ADR 0003)
//	engine                      internal/loop, codec, internal/offload, internal/metrics
//	cmd/...                     engine, codec and packages under cmd/ only
//
// The examples and external tests of the public packages (engine, codec)
// follow the rule of cmd/: they use pinion as an embedder would; they may
// also import the test-support packages (internal/tcptest), which import
// nothing of ours, and which no package's build may import. A package
// that matches no rule fails the test too: adding a package means deciding
// where it sits, here. Other test files may import what they need.
package archtest
