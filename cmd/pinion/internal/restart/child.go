package restart

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Inherited returns the descriptors a parent handed to this process, by
// name, and nil when it was not started by Spawn. It clears the protocol's
// environment variables, so a later restart of this process does not hand
// them on by mistake. Call it once, early.
func Inherited() ([]File, error) {
	list, ok := os.LookupEnv(EnvFDs)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(EnvFDs)
	if list == "" {
		return nil, nil
	}
	names := strings.Split(list, ",")
	files := make([]File, len(names))
	for i, name := range names {
		if name == "" {
			return nil, fmt.Errorf("restart: %s=%q: empty name at %d", EnvFDs, list, i)
		}
		fd := firstFD + i
		// exec cleared close-on-exec on the inherited descriptors; set it
		// again so that they do not leak into this process's own children.
		closeOnExec(fd)
		files[i] = File{Name: name, File: os.NewFile(uintptr(fd), name)}
	}
	return files, nil
}

// Ready tells the parent that this process serves; the parent's Spawn
// returns. It does nothing when this process was not started by Spawn.
func Ready() error {
	s, ok := os.LookupEnv(EnvReadyFD)
	if !ok {
		return nil
	}
	os.Unsetenv(EnvReadyFD)
	fd, err := strconv.Atoi(s)
	if err != nil || fd < firstFD {
		return fmt.Errorf("restart: bad %s=%q", EnvReadyFD, s)
	}
	f := os.NewFile(uintptr(fd), "ready")
	_, werr := f.Write([]byte{1})
	return errors.Join(werr, f.Close())
}
