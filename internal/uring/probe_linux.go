//go:build linux && (amd64 || arm64)

package uring

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Probe returns what the kernel offered when the ring was set up.
func (r *Ring) Probe() Probe {
	return Probe{Mode: r.mode, Features: r.features, Opcodes: r.opcodes, Incremental: r.bufs.inc}
}

// probeOpcodes asks the kernel which opcodes it supports
// (IORING_REGISTER_PROBE, Linux 5.6) and checks the ones the backend needs.
func (r *Ring) probeOpcodes() error {
	var p probeArg
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerProbe,
		uintptr(unsafe.Pointer(&p)), probeMaxOps, 0, 0)
	if errno != 0 {
		return &UnavailableError{Reason: ReasonMissingFeature, Detail: "opcode probe (needs Linux 5.6)", Err: errno}
	}
	for i := range int(p.opsLen) {
		if p.ops[i].flags&probeOpSupported != 0 {
			op := p.ops[i].op
			r.opcodes[op/64] |= 1 << (op % 64)
		}
	}
	probe := r.Probe()
	for _, op := range requiredOpcodes {
		if !probe.Supports(op) {
			return &UnavailableError{Reason: ReasonMissingOpcode, Detail: fmt.Sprintf("opcode %d", op)}
		}
	}
	return nil
}

// selfTestTimeout bounds the self-test's wait for a completion that a kernel
// without multishot receive would never post in the expected shape.
const selfTestTimeout = time.Second

// selfTest arms a multishot receive on one end of a socket pair, writes a
// byte to the other end, and expects it back in a provided buffer with the
// request still armed. Neither multishot receive (Linux 6.0) nor its
// interplay with a provided-buffer ring has a probe bit, and emulations of
// io_uring (gVisor) implement only part of it, so trying it is the honest
// check. It costs a few system calls per ring.
func (r *Ring) selfTest() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return &UnavailableError{Reason: ReasonResources, Detail: "self-test socket pair", Err: err}
	}
	defer unix.Close(fds[1])
	fail := func(detail string, err error) error {
		return &UnavailableError{Reason: ReasonMissingFeature, Detail: "multishot receive self-test: " + detail, Err: err}
	}
	tok := NewToken(fds[0], 0).with(opSelfTest)
	if err := r.prepRecvMultishot(fds[0], tok); err != nil {
		unix.Close(fds[0])
		return fail("prepare", err)
	}
	if _, err := unix.Write(fds[1], []byte{'x'}); err != nil {
		unix.Close(fds[0])
		return fail("write", err)
	}
	var got []cqe
	deadline := time.Now().Add(selfTestTimeout)
	for len(got) == 0 && time.Now().Before(deadline) {
		if err := r.enter(1, true, selfTestTimeout); err != nil {
			unix.Close(fds[0])
			return fail("wait", err)
		}
		got = r.reapRaw(got)
	}
	// Cancel the receive and wait for its final completion before closing,
	// so that nothing of the self-test is left for the owner to reap.
	if err := r.prepCancelFD(fds[0], NewToken(fds[0], 0).with(opSelfTest)); err != nil {
		unix.Close(fds[0])
		return fail("cancel", err)
	}
	ended := func() bool {
		for _, c := range got {
			if c.userData == uint64(tok) && c.flags&FlagMore == 0 {
				return true
			}
		}
		return false
	}
	for !ended() && time.Now().Before(deadline) {
		if err := r.enter(1, true, selfTestTimeout); err != nil {
			break
		}
		got = r.reapRaw(got)
	}
	unix.Close(fds[0])
	if len(got) == 0 || got[0].userData != uint64(tok) {
		return fail("no completion", nil)
	}
	first := got[0]
	if first.res < 0 {
		return fail("receive failed", unix.Errno(-first.res))
	}
	if first.res != 1 || first.flags&FlagBuffer == 0 || first.flags&FlagMore == 0 {
		return fail(fmt.Sprintf("unexpected completion res %d flags %#x", first.res, first.flags), nil)
	}
	bid := uint16(first.flags >> cqeBufferShift)
	off := r.bufs.take(bid, first.res, first.flags)
	if b := r.bufs.bytes(bid, off, 1); b[0] != 'x' {
		return fail("wrong byte in provided buffer", nil)
	}
	r.bufs.giveBack(bid)
	if !ended() {
		return fail("receive not cancelled", nil)
	}
	return nil
}

// reapRaw appends every ready completion to dst and consumes them. Used only
// while no wakeup is armed (setup), when every completion is the ring's own.
func (r *Ring) reapRaw(dst []cqe) []cqe {
	head := *r.cqHeadPtr
	tail := loadAcquire(r.cqTailPtr)
	for ; head != tail; head++ {
		dst = append(dst, r.cqes[head&r.cqMask])
	}
	storeRelease(r.cqHeadPtr, head)
	return dst
}
