//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyRestart relays the hot restart's signal, SIGUSR2, to c.
func notifyRestart(c chan<- os.Signal) { signal.Notify(c, syscall.SIGUSR2) }
