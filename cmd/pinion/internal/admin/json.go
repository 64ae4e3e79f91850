package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// limitsTimeout bounds how long a change waits for every loop to apply it.
const limitsTimeout = 5 * time.Second

// limits answers GET with the limits in effect, and PUT or POST (form
// values named like serve's flags, in the query or an urlencoded body)
// with the limits after the change, or 400 and the reason when the change
// was refused: then nothing changed.
func (s *Server) limits(w http.ResponseWriter, r *http.Request) {
	change := map[string]string{}
	if r.Method != http.MethodGet {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("malformed request: %v", err)})
			return
		}
		for k, vs := range r.Form {
			if len(vs) != 1 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("%s given %d times", k, len(vs))})
				return
			}
			change[k] = vs[0]
		}
		if len(change) == 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "no change given"})
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), limitsTimeout)
	defer cancel()
	cur, err := s.cfg.Limits(ctx, change)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, cur)
}
