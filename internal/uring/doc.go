// Package uring drives one io_uring instance for one event loop: setup with a
// fallback ladder of flags, a probe of what the kernel offers, submission of
// the few operations a network loop needs, completion reaping, one shared
// provided-buffer ring for receives, and a wakeup other goroutines may use. It
// imports nothing of ours, starts no goroutines and keeps no package-level
// state. It is Linux only; elsewhere New returns an *UnavailableError that
// matches ErrUnsupported. The design and the plan for wiring it into the loop
// are in docs/adr/0010-io-uring-backend.md.
//
// # Memory
//
// The submission ring, the completion ring, the submission entries, the
// provided-buffer ring, the receive buffers and the scratch space the kernel
// reads (message headers, iovecs, the wakeup counter) are all mmap'd, never
// the Go heap, so the collector never sees memory the kernel writes to. Bytes
// given to Send and Sendmsg are the exception: they may live on the Go heap,
// and the caller must keep them alive and unchanged until the send's
// completion arrives (the Go heap does not move objects).
//
// # Tokens
//
// Every submission carries a Token in its user_data: the file descriptor in
// the low 32 bits, a 24-bit generation chosen by the caller, and the operation
// in the top 8 bits, filled in by the method that prepares the entry. A token
// is a number, never a Go pointer. The generation lets the caller drop a
// completion meant for an earlier owner of a reused fd number.
//
// # Direct descriptors
//
// With Config.DirectDescriptors set, AcceptMultishotDirect puts accepted
// sockets in the ring's own descriptor table instead of the process's. Such
// a socket is named by Direct(slot), which every method taking an fd
// accepts; it has no ordinary fd, so only the ring can use or close it.
//
// # Ownership and threads
//
// One goroutine owns a Ring: it calls New, every preparation method, Submit,
// SubmitAndWait, Reap, Bytes, Recycle and Close. In the single-issuer modes
// (ModeDeferTaskrun, ModeSingleIssuer) the kernel accepts submissions only
// from the thread that created the ring, so the owner must call
// runtime.LockOSThread before New and stay locked until Close. Wake is the only
// method safe from any goroutine.
//
// # Completions
//
// Multishot accept and multishot receive post many completions for one
// submission; each carries FlagMore while the request stays armed. A
// completion without FlagMore ends the request: the caller re-arms it if it
// still wants it (after ENOBUFS, once buffers are recycled). A receive
// completion with FlagBuffer names the provided buffer that holds its bytes;
// the caller reads them with Bytes and gives them back with Recycle.
// Completions of one multishot receive arrive in the order of the bytes on
// the socket.
//
// # Provided buffers
//
// Where the kernel allows it (IOU_PBUF_RING_INC, Linux 6.12), receives
// consume the provided buffers incrementally: a receive takes only the
// bytes it fills, at the buffer's current offset, so several completions,
// of one connection or many, name the same buffer, each at its own offset
// (which Reap records in the CQE), and the buffer goes back to the kernel
// once it is full and each of them is recycled. Elsewhere, or with
// Config.WholeBuffers, each receive takes a whole buffer. Ring.Incremental
// says which; the caller's code is the same for both.
package uring
