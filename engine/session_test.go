package engine_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// selfSigned makes a certificate for 127.0.0.1 valid for an hour.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pinion test"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// tlsEcho hands every connection to a session running crypto/tls.Server
// and echoing what it decrypts.
type tlsEcho struct {
	engine.BaseHandler
	cfg  *tls.Config
	errs chan error
}

func (h *tlsEcho) OnOpen(c *engine.Conn) {
	err := c.OffloadSession(func(ctx context.Context, nc net.Conn) {
		tc := tls.Server(nc, h.cfg)
		defer tc.Close()
		if _, err := io.Copy(tc, tc); err != nil && h.errs != nil {
			h.errs <- err
		}
	})
	if err != nil {
		_ = c.CloseWithError(err)
	}
}

// TestSessionTLS runs crypto/tls servers on hybrid sessions for 200
// concurrent crypto/tls clients: every handshake completes and every byte
// is echoed in order.
func TestSessionTLS(t *testing.T) {
	cert, roots := selfSigned(t)
	h := &tlsEcho{cfg: &tls.Config{Certificates: []tls.Certificate{cert}}, errs: make(chan error, 256)}
	_, addr := startEngine(t, h, engine.Config{Loops: 2, OffloadWorkers: 200, OffloadQueue: 256})
	const clients = 200
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			if err := tlsRoundTrip(addr, roots, i); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case err := <-h.errs:
		t.Errorf("server session: %v", err)
	default:
	}
}

func tlsRoundTrip(addr string, roots *x509.CertPool, i int) error {
	d := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := bytes.Repeat([]byte{byte(i)}, 1000+i*100)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo differs")
	}
	return nil
}

// deadlineProbe reads with a short deadline on the blocking view and
// reports what Read returned.
type deadlineProbe struct {
	engine.BaseHandler
	got chan error
}

func (h *deadlineProbe) OnOpen(c *engine.Conn) {
	_ = c.OffloadSession(func(ctx context.Context, nc net.Conn) {
		_ = nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := nc.Read(make([]byte, 16))
		h.got <- err
	})
}

// TestSessionReadDeadline checks a read deadline on the blocking view
// fires with an error that is a timeout.
func TestSessionReadDeadline(t *testing.T) {
	h := &deadlineProbe{got: make(chan error, 1)}
	_, addr := startEngine(t, h, engine.Config{Loops: 1})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-h.got:
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read error = %v, want a timeout (os.ErrDeadlineExceeded)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read deadline never fired")
	}
	// The session returned: the server closes the connection.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read = %d, %v; want EOF after the session ended", n, err)
	}
}
