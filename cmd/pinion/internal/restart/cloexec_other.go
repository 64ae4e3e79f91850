//go:build !unix

package restart

func closeOnExec(int) {}
