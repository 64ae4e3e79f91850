// Command pinion runs pinion's servers and tools.
//
//	pinion serve -addr HOST:PORT -proto echo -model loop|goroutine [flags]
//	pinion load  -addr HOST:PORT -proto echo|http|resp -conns N -duration D [flags]
//	pinion top   -admin HOST:PORT [-once]
//
// Run "pinion serve -h" or "pinion load -h" for the flags of each.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/pinion-net/pinion/cmd/pinion/internal/load"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "load":
		return load.Run(args[1:], stdout, stderr)
	case "top":
		return topCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "pinion: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  pinion serve -addr HOST:PORT -proto echo|http|resp -model loop|goroutine [-loops N] [-pin=true|false]
               [-lb reuseport|roundrobin|leastconn] [-io auto|epoll|uring] [-max-conns N] [-idle-timeout D]
               [-offload-workers N] [-offload-queue N] [-offload-policy pause|reject] [-echo-delay D]
               [-header-timeout D] [-max-header N] [-max-body N]
               [-admin HOST:PORT] [-slow-callback D] [-log-level debug|info|warn|error]
  pinion load  -addr HOST:PORT -proto echo|http|resp -conns N -duration D -pipeline P -size S
  pinion top   -admin HOST:PORT [-once] [-interval D]
`)
}
