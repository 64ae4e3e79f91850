//go:build !(linux && (amd64 || arm64))

package loop

import (
	"time"

	"github.com/pinion-net/pinion/internal/uring"
)

// ringIO is the io_uring backend, which exists only on Linux (amd64,
// arm64); here an IOUring loop fails in Run and l.ring stays nil, so none
// of these is ever called.
type ringIO struct{}

func (l *Loop) startIO() error {
	if l.cfg.IO != IOUring {
		return nil
	}
	_, err := uring.New(uring.Config{ForceUnavailable: l.cfg.Ring.ForceUnavailable})
	return err
}

func (l *Loop) stopIO()                             {}
func (rio *ringIO) wait(time.Duration) (int, error) { return 0, nil }
func (rio *ringIO) park(*Conn)                      {}
func (l *Loop) ringDispatch(int)                    {}
func (l *Loop) unstash(*Conn)                       {}
func (l *Loop) ringSync(*Conn)                      {}
func (l *Loop) ringFlush(*Conn)                     {}
func (l *Loop) ringClose(*Conn)                     {}
func (l *Loop) ringArm(*Conn) error                 { return nil }
func (l *Loop) ringStopAccept(*listener)            {}
func (l *Loop) ringArmAccept(*listener)             {}
func (l *Loop) ringCloseListeners()                 {}
func (l *Loop) whenListenersClosed(fn func())       { fn() }
