package sock_test

import (
	"fmt"

	"github.com/pinion-net/pinion/internal/sock"
)

func ExampleParseAddr() {
	for _, s := range []string{
		"127.0.0.1:8080",
		"tcp://[::1]:0",
		":9000",
		"tcp6://:9000",
		"unix:///run/pinion.sock",
		"udp://127.0.0.1:53",
	} {
		a, err := sock.ParseAddr(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s -> %s (network %s)\n", s, a, a.Network)
	}
	// Output:
	// 127.0.0.1:8080 -> tcp4://127.0.0.1:8080 (network tcp4)
	// tcp://[::1]:0 -> tcp6://[::1]:0 (network tcp6)
	// :9000 -> tcp4://0.0.0.0:9000 (network tcp4)
	// tcp6://:9000 -> tcp6://[::]:9000 (network tcp6)
	// unix:///run/pinion.sock -> unix:///run/pinion.sock (network unix)
	// sock: parse address "udp://127.0.0.1:53": unsupported network "udp" (want tcp, tcp4, tcp6 or unix)
}
