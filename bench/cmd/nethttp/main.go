// Command nethttp is the net/http baseline of bench/protocols.sh: it answers
// GET /plaintext with "Hello, World!" as text/plain, with Server and Date
// headers, and 404 elsewhere. It prints "listening on ADDR" once it accepts
// connections and runs until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

var hello = []byte("Hello, World!")

// plaintext writes the plaintext response. net/http adds the Date header.
func plaintext(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Server"] = []string{"nethttp"}
	h["Content-Type"] = []string{"text/plain"}
	w.Write(hello)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", plaintext)
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
