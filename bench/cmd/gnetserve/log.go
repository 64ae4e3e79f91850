package main

import (
	"fmt"
	"log/slog"
)

// gnetLogger is gnet's logging.Logger on a slog.Logger, at warning and
// above only. Without it gnet logs through zap to stdout, at info level,
// which would put its own lines beside the listening line that scripts
// read. gnet also makes the logger of the engine started last its
// package-wide default, for the few messages not tied to an engine.
type gnetLogger struct {
	log *slog.Logger
}

// Debugf drops the message.
func (gnetLogger) Debugf(string, ...any) {}

// Infof drops the message: gnet logs one at each start.
func (gnetLogger) Infof(string, ...any) {}

// Warnf logs the message as a warning.
func (l gnetLogger) Warnf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "from", "gnet")
}

// Errorf logs the message as an error.
func (l gnetLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "from", "gnet")
}

// Fatalf logs the message as an error and does not exit: gnet v2.10.0
// calls it only where kqueue cannot be woken (BSD), and whether to exit is
// serve's decision.
func (l gnetLogger) Fatalf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "from", "gnet", "fatal", true)
}
