// Package sock creates and configures the raw, non-blocking sockets that the
// event loops poll.
//
// Everything here works on plain file descriptors (ints), not on net.Conn:
// a loop registers the fd with its poller and reads and writes it directly.
// The caller owns every fd this package returns and must close it with
// unix.Close (or syscall.Close) exactly once.
//
// Every fd created here is non-blocking and close-on-exec from the moment it
// exists. Linux, FreeBSD, NetBSD, OpenBSD and DragonFly do this atomically
// with SOCK_NONBLOCK|SOCK_CLOEXEC on socket(2) and accept4(2). Darwin has no
// such flags, so there the fd is created while holding syscall.ForkLock for
// reading and marked close-on-exec before the lock is released; that is the
// protocol os/exec relies on so that a concurrently forked child never
// inherits a half-configured fd (see syscall/exec_unix.go).
//
// Addresses are parsed once by ParseAddr into an Addr whose Address is an IP
// literal and port (or a socket path), so Listen and Dial never touch the
// resolver for addresses that came from ParseAddr. ParseAddr is pure Go and
// works on every platform; the socket functions need Linux, Darwin or one of
// the BSDs and return ErrUnsupported elsewhere.
//
// SO_REUSEPORT is the basis of the per-loop listeners on Linux, where the
// kernel spreads incoming connections over all sockets bound to the port.
// On Darwin and the BSDs the option only lets several sockets share the port
// without balancing between them, which is why the engine uses a single
// acceptor there.
//
// Errors name the operation and the address or fd and wrap the errno with %w,
// so callers match them with errors.Is (errors.Is(err, unix.EADDRINUSE)).
// Accept is the one exception: it sits on the hot path and returns the bare
// errno, which callers compare with ==.
package sock
