package main

import (
	"fmt"
	"io"
)

func load(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pinion load: not built yet")
	return 2
}
