package tcptest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// TCP socket states as /proc/net/tcp writes them.
const (
	SynSent = "02"
	Listen  = "0A"
)

// Which end of a socket's address pair HasSocket matches: its field in
// /proc/net/tcp.
const (
	LocalPort  = 1
	RemotePort = 2
)

// HasSocket reports whether /proc/net/tcp (this network namespace's IPv4
// TCP sockets, Linux) lists a socket in state whose end (LocalPort or
// RemotePort) has port. It looks without connecting to anything, so it
// can watch a server's listener or a pending connect without becoming a
// client; it fails where /proc/net/tcp cannot be read. Safe from any
// goroutine.
func HasSocket(state string, end, port int) (bool, error) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false, fmt.Errorf("tcptest: socket states: %w", err)
	}
	suffix := fmt.Sprintf(":%04X", port) // hex, big-endian
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 3 && strings.HasSuffix(f[end], suffix) && f[3] == state {
			return true, nil
		}
	}
	return false, nil
}
