//go:build !unix

package main

import "os"

// notifyRestart does nothing: there is no SIGUSR2 to restart on.
func notifyRestart(chan<- os.Signal) {}
