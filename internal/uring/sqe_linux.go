//go:build linux && (amd64 || arm64)

package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The preparation methods queue one submission entry each; nothing reaches
// the kernel until Submit or SubmitAndWait (or until the submission ring is
// full, when the queued entries are submitted first). Each sets the operation
// in the token; tok names the fd and generation. All are for the owner only.

// Nop queues an operation that does nothing and completes with Res 0.
func (r *Ring) Nop(tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeNop
	e.fd = -1
	e.userData = uint64(tok.with(OpNop))
	return nil
}

// AcceptMultishot arms an accept on the listening socket lfd that posts one
// completion per accepted connection (Res: the new fd, non-blocking and
// close-on-exec) while FlagMore is set (IORING_ACCEPT_MULTISHOT, Linux 5.19).
// A completion without FlagMore ends it (EMFILE, for example, or a cancel);
// the caller re-arms when it wants more.
func (r *Ring) AcceptMultishot(lfd int, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeAccept
	e.fd = int32(lfd)
	e.ioprio = acceptMultishot
	e.opFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	e.userData = uint64(tok.with(OpAccept))
	return nil
}

// RecvMultishot arms a receive on fd that takes a buffer from the ring's
// provided-buffer ring for every chunk of bytes that arrives and posts one
// completion for each (FlagBuffer with the buffer id; Res the byte count)
// while FlagMore is set (IORING_RECV_MULTISHOT, Linux 6.0). Res 0 without
// FlagMore is end of file. A completion with ENOBUFS (and without FlagMore)
// means the buffers ran out: recycle some and arm again; no byte is lost.
func (r *Ring) RecvMultishot(fd int, tok Token) error {
	return r.prepRecvMultishot(fd, tok.with(OpRecv))
}

func (r *Ring) prepRecvMultishot(fd int, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeRecv
	target(e, fd)
	e.ioprio = recvMultishot
	e.flags |= sqeBufferSelect
	e.bufGroup = bufGroupID
	e.userData = uint64(tok)
	return nil
}

// Send queues a send of p on fd (MSG_NOSIGNAL). The kernel reads p after
// Submit returns, so p must stay alive and unchanged until the completion;
// Res is the number of bytes sent, which may be short of len(p): the caller
// sends the rest. At most one send per socket should be in flight, because
// two may complete out of order when the first waits for buffer space.
func (r *Ring) Send(fd int, p []byte, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeSend
	target(e, fd)
	e.addr = addrOf(p)
	e.len = uint32(len(p))
	e.opFlags = unix.MSG_NOSIGNAL
	e.userData = uint64(tok.with(OpSend))
	return nil
}

// Sendmsg queues one gathered send of bufs on fd (MSG_NOSIGNAL), at most
// Config.MaxIovecs of them. The message header and iovecs live in the ring's
// mmap'd scratch space, which the kernel copies at submission
// (FeatSubmitStable); the bytes themselves must stay alive and unchanged
// until the completion. Res may be short of the total, as with Send.
func (r *Ring) Sendmsg(fd int, bufs [][]byte, tok Token) error {
	if len(bufs) > r.cfg.MaxIovecs {
		return ErrTooManyBuffers
	}
	e, idx, err := r.next()
	if err != nil {
		return err
	}
	slot := r.scratch[64+int(idx)*r.slotSize:][:r.slotSize]
	hdr := (*msghdr)(unsafe.Pointer(&slot[0]))
	iovs := unsafe.Slice((*iovec)(unsafe.Pointer(&slot[unsafe.Sizeof(msghdr{})])), r.cfg.MaxIovecs)
	for i, b := range bufs {
		iovs[i] = iovec{base: addrOf(b), len: uint64(len(b))}
	}
	*hdr = msghdr{iov: uint64(uintptr(unsafe.Pointer(&iovs[0]))), iovlen: uint64(len(bufs))}
	e.opcode = opcodeSendmsg
	target(e, fd)
	e.addr = uint64(uintptr(unsafe.Pointer(hdr)))
	e.len = 1
	e.opFlags = unix.MSG_NOSIGNAL
	e.userData = uint64(tok.with(OpSend))
	return nil
}

// addrOf returns the address of p's first byte as a number for a submission
// entry. The kernel reads it later; the caller keeps p alive until then (the
// Go heap does not move objects).
func addrOf(p []byte) uint64 {
	if len(p) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(p))))
}

// CloseFD queues a close of fd. Closing does not end requests still armed on
// fd (the kernel holds its own reference to the file), so cancel them first:
// CancelAndCloseFD does both in order.
func (r *Ring) CloseFD(fd int, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeClose
	if slot, ok := IsDirect(fd); ok {
		e.fileIndex = uint32(slot) + 1 // 0 would mean "not a slot"
	} else {
		e.fd = int32(fd)
	}
	e.userData = uint64(tok.with(OpClose))
	return nil
}

// CancelFD queues a cancel of every request on fd (Linux 5.19). Its own
// completion has Res the number cancelled, or ENOENT when there was none;
// each cancelled request posts its final completion with ECANCELED.
func (r *Ring) CancelFD(fd int, tok Token) error {
	return r.prepCancelFD(fd, tok.with(OpCancel))
}

func (r *Ring) prepCancelFD(fd int, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeAsyncCancel
	e.fd = int32(fd)
	e.opFlags = cancelFD | cancelAll
	if slot, ok := IsDirect(fd); ok {
		e.fd = int32(slot)
		e.opFlags |= cancelFDFixed
	}
	e.userData = uint64(tok)
	return nil
}

// CancelToken queues a cancel of every request whose token is target
// (operation included).
func (r *Ring) CancelToken(target, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeAsyncCancel
	e.fd = -1
	e.addr = uint64(target)
	e.opFlags = cancelAll
	e.userData = uint64(tok.with(OpCancel))
	return nil
}

// CancelAndCloseFD queues a cancel of every request on fd hard-linked to a
// close of fd, so the close runs after the cancel whatever its result. Two
// completions come back: OpCancel and OpClose.
func (r *Ring) CancelAndCloseFD(fd int, tok Token) error {
	if r.closed {
		return ErrClosed
	}
	if r.sqEntries-r.pending() < 2 {
		// A link must not straddle a submission: submit first.
		if err := r.enter(0, false, 0); err != nil {
			return err
		}
	}
	if err := r.CancelFD(fd, tok); err != nil {
		return err
	}
	r.sqes[(r.sqTail-1)&r.sqMask].flags |= sqeIOHardlink
	return r.CloseFD(fd, tok)
}

// Shutdown queues a shutdown(2) of fd; how is unix.SHUT_WR for a half-close.
func (r *Ring) Shutdown(fd, how int, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodeShutdown
	target(e, fd)
	e.len = uint32(how)
	e.userData = uint64(tok.with(OpShutdown))
	return nil
}
