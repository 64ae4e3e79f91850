// Package poller waits for readiness on file descriptors with epoll on Linux
// and kqueue on darwin, dragonfly, freebsd, netbsd and openbsd, behind one
// API. It knows file descriptors, interests and tokens; it knows nothing about
// connections, starts no goroutines and keeps no package-level state. On other
// systems Open returns ErrUnsupported.
//
// # Tokens
//
// Every registration carries a Token: the file descriptor in the low 32 bits
// and a generation chosen by the caller in the high 32 bits. A Token is a plain
// number, never a Go pointer, so the kernel never holds a reference the
// garbage collector cannot see. The fd inside the token must be the fd being
// registered; Add and Modify reject a mismatch. The generation lets the caller
// drop stale events: when an fd number is closed and reused, the new
// registration gets a new generation, and an Event whose generation does not
// match the current owner of that fd is ignored by the caller. Events come back
// with the exact token given to the latest Add or Modify.
//
// # Level-triggered readiness and the drain rule
//
// Registrations are level-triggered: as long as an fd is readable (or writable)
// and the interest is set, every Wait reports it again. Nothing is lost by
// handling only part of the readiness, but nothing goes quiet either: a caller
// that cannot make progress on an fd (an outbound buffer that is empty, a
// connection paused by back-pressure) must clear that interest with Modify, or
// every Wait returns at once. The usual rule is to drain readiness: read until
// EAGAIN (or a per-fd budget) on Readable, write until EAGAIN or until nothing
// is left on Writable, and drop Write interest once nothing is left to write.
//
// # Flags
//
// Readable and Writable mirror the interest set. HangUp reports that the peer
// shut down its write side or the connection hung up; it comes with Readable
// when Read interest is set, so reading drains the remaining bytes and then
// sees end of file. On Linux, Readable may also accompany a hang-up of an fd
// registered without Read interest, because epoll always reports EPOLLHUP; a
// read then returns end of file or an error, which is harmless. Error reports a
// pending socket error; the caller learns which one by reading, writing or
// asking for SO_ERROR. An fd registered with no interest (0) gets no Readable
// or Writable events, but on Linux it may still report HangUp or Error, which
// epoll delivers unconditionally; Delete an fd that must stay completely quiet.
//
// PeerClose without Read asks for HangUp alone, for a caller that is not
// reading an fd but must notice its peer leave: EPOLLRDHUP on its own on
// Linux (epoll masks the socket's readiness with the registered events, so
// arriving bytes stay silent), and on kqueue a read filter whose low-water
// mark no buffer reaches, edge-triggered (EV_CLEAR), which EV_EOF still
// fires. Level-triggered on Linux, it repeats until the caller changes the
// interest; on darwin, whose kernel caps the mark at the buffer's size, a
// full receive buffer may report one Readable without HangUp, which such a
// caller ignores.
//
// On epoll an fd ready in both directions yields one Event with both flags. On
// kqueue the read and write filters are separate kernel objects and yield
// separate Events with the same token, possibly in the same Wait; callers must
// accept both shapes.
//
// # Wakeups
//
// Wake makes the current Wait return, or the next one if none is running. It
// uses an eventfd on Linux, an EVFILT_USER event on darwin, dragonfly and
// freebsd, and a non-blocking pipe on netbsd and openbsd. Wakeups coalesce: an
// atomic state goes from idle to pending by the first Wake's compare-and-swap,
// and only that Wake makes a system call; later Wakes see pending and return.
// Wait consumes the wakeup internally (it never appears in the events) and
// returns the state to idle. The caller must look for cross-goroutine work
// (its task queue) after every Wait returns: any Wake that was coalesced
// happened before that Wait reset the state, so work posted before such a Wake
// is visible to the check that follows.
//
// # Ownership
//
// One goroutine owns a Poller: it calls Wait, Add, Modify, Delete and Close,
// never concurrently with each other. Wake is the only method safe from any
// goroutine, including concurrently with Wait and Close; after Close it returns
// ErrClosed. Callers must Delete an fd before closing it: epoll keeps the
// registration alive while a duplicate of the fd is open, and kqueue drops it
// silently, so closing first leaves the kernel and the caller disagreeing.
// Adding an fd that is already registered is a caller bug too: epoll reports
// EEXIST, while kqueue replaces the registration.
package poller
