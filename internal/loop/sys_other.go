//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package loop

import "errors"

// On other systems poller.Open fails, so New never returns a loop and none
// of these runs; they exist so the package compiles everywhere.

var errUnsupported = errors.New("loop: not supported on this platform")

var errHangUp = errors.New("connection hung up")

type sysState struct{}

func (s *sysState) writev(int, [][]byte) (int, error) { return 0, errUnsupported }

func sysRead(int, []byte) (int, error)  { return 0, errUnsupported }
func sysWrite(int, []byte) (int, error) { return 0, errUnsupported }
func sysClose(int) error                { return errUnsupported }
func sysShutdownWrite(int) error        { return errUnsupported }
func sysSetLinger0(int) error           { return errUnsupported }
func sysSocketError(int) error          { return errUnsupported }
func isAgain(error) bool                { return false }
func isInterrupted(error) bool          { return false }
func isInProgress(error) bool           { return false }
func isOutOfFDs(error) bool             { return false }
func isAbortedAccept(error) bool        { return false }
