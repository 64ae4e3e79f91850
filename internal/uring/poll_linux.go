//go:build linux && (amd64 || arm64)

package uring

// PollOnce queues a one-shot poll of fd for events (POLLOUT, POLLRDHUP,
// ...; POLLERR and POLLHUP are always reported). Its completion's Res is the
// mask of events that occurred, or a negated errno (ECANCELED after
// CancelToken). A loop uses it where readiness is the question: a
// non-blocking connect finishing, or a peer hanging up while the loop is not
// receiving.
func (r *Ring) PollOnce(fd int, events uint32, tok Token) error {
	e, _, err := r.next()
	if err != nil {
		return err
	}
	e.opcode = opcodePollAdd
	target(e, fd)
	e.opFlags = events // poll32_events, little-endian on the supported arches
	e.userData = uint64(tok.with(OpPoll))
	return nil
}
