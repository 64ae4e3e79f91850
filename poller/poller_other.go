//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package poller

import "time"

// Poller is not available on this system; Open returns ErrUnsupported and
// every method does too.
type Poller struct{}

func open() (*Poller, error) { return nil, ErrUnsupported }

func (p *Poller) add(int, Token, Interest) error    { return ErrUnsupported }
func (p *Poller) modify(int, Token, Interest) error { return ErrUnsupported }
func (p *Poller) delete(int) error                  { return ErrUnsupported }

func (p *Poller) wait([]Event, time.Duration) (int, error) { return 0, ErrUnsupported }

func (p *Poller) wake() error  { return ErrUnsupported }
func (p *Poller) close() error { return ErrUnsupported }
