//go:build !unix

package main

import "time"

// processCPU returns -1: this system does not say.
func processCPU() time.Duration { return -1 }
