//go:build unix

package sock

import (
	"strings"
	"testing"
)

// TestListenFDsEnv checks the socket activation variables that must not
// produce files: absent, meant for another process, or malformed. (Files
// themselves are taken over in engine's TestAdoptSystemdSockets, in a
// process started with them.)
func TestListenFDsEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "no variables"},
		{name: "another process's sockets", env: map[string]string{"LISTEN_PID": "41", "LISTEN_FDS": "2"}},
		{name: "no sockets", env: map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "0"}},
		{name: "bad pid", env: map[string]string{"LISTEN_PID": "x", "LISTEN_FDS": "1"}, wantErr: `LISTEN_PID="x" is not a process ID`},
		{name: "bad count", env: map[string]string{"LISTEN_PID": "42", "LISTEN_FDS": "-1"}, wantErr: `LISTEN_FDS="-1" is not a count of sockets`},
		{name: "missing count", env: map[string]string{"LISTEN_PID": "42"}, wantErr: `LISTEN_FDS="" is not a count of sockets`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := ListenFDs(func(k string) string { return tt.env[k] }, 42)
			if len(files) != 0 {
				t.Errorf("ListenFDs: got %d files, want none", len(files))
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ListenFDs: got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ListenFDs: got %v, want an error saying %s", err, tt.wantErr)
			}
		})
	}
}
