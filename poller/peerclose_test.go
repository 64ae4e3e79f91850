package poller_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/poller"
)

// TestPeerClose: with PeerClose alone, bytes arriving are not reported, the
// peer's shutdown of its write side is (as HangUp), and switching to Read
// and back works in both directions.
func TestPeerClose(t *testing.T) {
	p := mustOpen(t)
	e := newSocketpair(t)
	tok := poller.NewToken(e.r, 7)
	mustAdd(t, p, e.r, tok, poller.PeerClose)
	mustWrite(t, e.w, "unread bytes")
	expectNone(t, p)

	mustModify(t, p, e.r, tok, poller.Read)
	expect(t, p, tok, poller.Readable)
	mustModify(t, p, e.r, tok, poller.PeerClose)
	expectNone(t, p)

	if err := unix.Shutdown(e.w, unix.SHUT_WR); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	expect(t, p, tok, poller.HangUp)
	mustModify(t, p, e.r, tok, poller.Read)
	expect(t, p, tok, poller.Readable|poller.HangUp)
}
