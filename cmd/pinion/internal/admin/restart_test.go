package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestRestartRoute: POST /restart answers what Config.Restart says: 200
// with its line, 409 while a restart runs, 500 with the reason on
// failure; no route without Restart, and no GET.
func TestRestartRoute(t *testing.T) {
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		name       string
		msg        string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"ready", "new process 42 serves; process 7 drains", nil, 200, "new process 42 serves; process 7 drains\n"},
		{"busy", "", fmt.Errorf("hot restart: %w", ErrRestartBusy), 409, "hot restart: a restart is already in progress\n"},
		{"failed", "", errors.New("new process did not become ready"), 500, "restart failed, still serving: new process did not become ready\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTest(t, Config{Addr: "127.0.0.1:0", Restart: func(context.Context) (string, error) { return tc.msg, tc.err }})
			r, err := client.Post("http://"+s.Addr()+"/restart", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", r.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if code, _ := get(t, "http://"+s.Addr()+"/restart"); code != http.StatusMethodNotAllowed {
				t.Errorf("GET /restart: %d, want 405", code)
			}
		})
	}
	s := startTest(t, Config{Addr: "127.0.0.1:0"})
	r, err := client.Post("http://"+s.Addr()+"/restart", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Errorf("POST /restart without Config.Restart: %d, want 404", r.StatusCode)
	}
}
