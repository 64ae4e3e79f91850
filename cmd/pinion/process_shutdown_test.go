package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestProcessShutdownPipelined: clients of `pinion serve` (default flags,
// two loops) pipeline without pause, RESP GETs of a 4 KiB value or HTTP
// POST /echo of 4 KiB bodies, when SIGTERM arrives. On both models each
// client reads whole replies only, in order, then the server's FIN: no
// reply cut, no reset; the process exits 0 within its 10 s deadline
// (TestShutdownPipelinedRESP is the in-process RESP case).
func TestProcessShutdownPipelined(t *testing.T) {
	const clients = 8
	needProc(t)
	bin := buildPinion(t)
	for _, proto := range []string{"resp", "http"} {
		t.Run(proto, func(t *testing.T) {
			forEachModel(t, func(t *testing.T, model string) {
				p := startServeFlags(t, bin, "-proto", proto, "-model", model, "-loops", "2")
				var batch []byte
				var readOne func(*bufio.Reader) error
				if proto == "resp" {
					batch, readOne = respGetPipeline(t, p.addr)
				} else {
					batch, readOne = httpEchoPipeline()
				}
				wait := pipelinedClients(t, p.addr, clients, batch, 1000, readOne)
				took := p.terminate(t, 30*time.Second)
				replies := wait()
				t.Logf("%s: replies per client %v, each ended by the server's FIN; exited %v after SIGTERM: %v",
					model, replies, took.Round(time.Millisecond), p.cmd.ProcessState)
				if code := p.cmd.ProcessState.ExitCode(); code != 0 {
					t.Errorf("exit status %d, want 0\nstderr: %s", code, &p.stderr)
				}
				if took > 10*time.Second {
					t.Errorf("exited %v after SIGTERM, want within the 10s deadline", took)
				}
			})
		})
	}
}

// httpEchoPipeline returns a batch of 16 POST /echo requests with 4 KiB
// bodies and a reader of one response that checks it.
func httpEchoPipeline() (batch []byte, readOne func(*bufio.Reader) error) {
	body := randomBytes(3, 4<<10)
	req := fmt.Appendf(nil, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return bytes.Repeat(req, 16), func(br *bufio.Reader) error {
		n, err := httpReadHead(br)
		if err != nil {
			return err
		}
		if n != len(body) {
			return fmt.Errorf("Content-Length %d, want %d", n, len(body))
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(br, got); err != nil {
			return fmt.Errorf("body: %w", err)
		}
		if !bytes.Equal(got, body) {
			return fmt.Errorf("body differs first at byte %d", firstDiff(got, body))
		}
		return nil
	}
}
