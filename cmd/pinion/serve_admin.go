package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/pinion-net/pinion/cmd/pinion/internal/admin"
)

// startAdmin starts the admin server that -admin asks for, or returns nil.
func startAdmin(cfg serveConfig, srv server, level *slog.LevelVar, log *slog.Logger, rs *restarter) (*admin.Server, error) {
	if cfg.admin == "" {
		return nil, nil
	}
	ac := admin.Config{Addr: cfg.admin, Logger: log}
	ln, err := inheritedAdmin(cfg.inherited)
	if err != nil {
		return nil, fmt.Errorf("inherited admin socket: %w", err)
	}
	ac.Listener = ln
	if rs != nil {
		ac.Restart = rs.request
	}
	switch s := srv.(type) {
	case *loopServer:
		ac.Metrics = s.e.WriteMetrics
		ac.Loops = admin.LoopsView(s.e)
		ac.Limits = admin.EngineLimits(s.e, level)
	case *goroutineServer:
		ac.Metrics = s.writeMetrics
	}
	return admin.Start(ac)
}

// closeAdmin stops the admin server, giving open requests a moment.
func closeAdmin(a *admin.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		log.Warn("admin server close", "err", err)
	}
}

// writeMetrics writes what the goroutine model measures: its open
// connections.
func (s *goroutineServer) writeMetrics(w io.Writer) error {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	b := []byte("# HELP pinion_goroutine_connections Connections open now (goroutine model).\n" +
		"# TYPE pinion_goroutine_connections gauge\npinion_goroutine_connections ")
	b = strconv.AppendInt(b, int64(n), 10)
	_, err := w.Write(append(b, '\n'))
	return err
}
