package loop

import (
	"net/netip"
	"testing"

	"github.com/pinion-net/pinion/internal/tcptest"
)

// TestStopAcceptingStopsListening: when StopAccepting's done runs, the
// loop's listening socket no longer listens, so a connect made after it
// is refused. With io_uring the socket is closed through the ring, and
// the ring's accept holds it open until that close completes: done ran
// before the close was even submitted, and a connect in between went into
// the socket's queue and was then reset (TestIOBackends' shutdown scenario
// saw "connection reset by peer" for "connection refused" in one run of
// make test).
func TestStopAcceptingStopsListening(t *testing.T) {
	if _, err := tcptest.HasSocket(tcptest.Listen, tcptest.LocalPort, 0); err != nil {
		t.Skip(err)
	}
	forEachIO(t, func(t *testing.T, mode IOMode) {
		for range 5 {
			l, addr := echoLoop(t, mode, Config{})
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				t.Fatal(err)
			}
			port := int(ap.Port())
			if on, _ := tcptest.HasSocket(tcptest.Listen, tcptest.LocalPort, port); !on {
				t.Fatalf("port %d does not listen before StopAccepting", port)
			}
			still := make(chan bool, 1)
			l.StopAccepting(func() {
				on, _ := tcptest.HasSocket(tcptest.Listen, tcptest.LocalPort, port) // read before, so it cannot fail now
				still <- on
			})
			if recv(t, still, "StopAccepting's done") {
				t.Fatalf("port %d still listens when StopAccepting's done runs", port)
			}
		}
	})
}
