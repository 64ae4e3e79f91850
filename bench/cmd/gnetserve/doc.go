// Command gnetserve is the gnet v2 peer of "pinion serve" in the
// benchmarks: the same protocols, flags named the same way, a different
// engine.
//
//	gnetserve -addr 127.0.0.1:9000 -proto echo|http [-loops N] [-pin]
//	          [-max-conns N] [-read-buffer BYTES] [-idle-timeout 0]
//
// Once gnet has booted it prints one line to stdout,
//
//	gnetserve: listening on 127.0.0.1:9000 (http, gnet, 8 loops)
//
// and serves until SIGINT or SIGTERM, when it stops the engine and exits 0.
//
// The engine runs multicore with SO_REUSEPORT: on Linux gnet v2.10.0 gives
// each event loop its own listening socket, each bound to the address
// anew, and the kernel spreads new connections over them. A connection
// stays on the loop whose socket accepted it. Binding anew is why port 0
// is refused: each loop would get its own ephemeral port.
//
// -proto echo writes back every byte read. -proto http serves the
// benchmark routes of "pinion serve -proto http" with pinion's own codec
// package (parser, response writer and Date cache), so only the engine
// differs:
//
//	GET  /plaintext  200 text/plain        Hello, World!
//	GET  /json       200 application/json  {"message":"Hello, World!"}
//
// HEAD is answered wherever GET is, without the body; anything else is
// 404. Pipelined requests are answered in order, all those complete in
// one read with one write.
//
// Where gnet lacks what pinion serve has, the flag says so: gnet has no
// idle timeout (-idle-timeout accepts only 0), and -pin locks each loop's
// goroutine to an OS thread without pinning that thread to a CPU.
package main
