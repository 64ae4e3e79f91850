//go:build !unix

package engine

func closeFD(int) error { return nil }
