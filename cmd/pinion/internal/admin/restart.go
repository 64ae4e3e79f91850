package admin

import (
	"errors"
	"io"
	"net/http"
)

// ErrRestartBusy is what Config.Restart returns while a restart runs: the
// admin server answers 409 Conflict.
var ErrRestartBusy = errors.New("a restart is already in progress")

// restart serves POST /restart: the answer comes once the new process
// serves (200) or the restart failed and this process serves on (500, or
// 409 while another restart runs), with the reason as the body.
func (s *Server) restart(w http.ResponseWriter, r *http.Request) {
	msg, err := s.cfg.Restart(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case errors.Is(err, ErrRestartBusy):
		w.WriteHeader(http.StatusConflict)
		msg = err.Error()
	case err != nil:
		w.WriteHeader(http.StatusInternalServerError)
		msg = "restart failed, still serving: " + err.Error()
	}
	_, _ = io.WriteString(w, msg+"\n")
}
