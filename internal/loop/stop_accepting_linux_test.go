package loop

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// listening reports whether /proc/net/tcp lists a listening socket on
// 127.0.0.1:port (state 0A; addresses are hex, the port big-endian).
func listening(t *testing.T, port int) bool {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("socket states come from /proc/net/tcp: %v", err)
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 3 && f[1] == local && f[3] == "0A" {
			return true
		}
	}
	return false
}

// TestStopAcceptingStopsListening: when StopAccepting's done runs, the
// loop's listening socket no longer listens, so a connect made after it
// is refused. With io_uring the socket is closed through the ring, and
// the ring's accept holds it open until that close completes: done ran
// before the close was even submitted, and a connect in between went into
// the socket's queue and was then reset (TestIOBackends' shutdown scenario
// saw "connection reset by peer" for "connection refused" in one run of
// make test).
func TestStopAcceptingStopsListening(t *testing.T) {
	forEachIO(t, func(t *testing.T, mode IOMode) {
		for range 5 {
			l, addr := echoLoop(t, mode, Config{})
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				t.Fatal(err)
			}
			port := int(ap.Port())
			if !listening(t, port) {
				t.Fatalf("port %d does not listen before StopAccepting", port)
			}
			still := make(chan bool, 1)
			l.StopAccepting(func() { still <- listening(t, port) })
			if recv(t, still, "StopAccepting's done") {
				t.Fatalf("port %d still listens when StopAccepting's done runs", port)
			}
		}
	})
}
