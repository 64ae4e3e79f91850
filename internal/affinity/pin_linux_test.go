package affinity_test

import (
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/pinion-net/pinion/internal/affinity"
	"golang.org/x/sys/unix"
)

func TestPinThread(t *testing.T) {
	before := affinity.Allowed()
	cpu := before[0]
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the goroutine exits locked, so the runtime
		// terminates this thread instead of reusing it with the pinned mask.
		runtime.LockOSThread()
		errc <- pinAndCheck(cpu)
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if after := affinity.Allowed(); !slices.Equal(after, before) {
		t.Errorf("Allowed() after pinning another thread = %v, want %v as before", after, before)
	}
}

// pinAndCheck pins the calling thread to cpu and checks the kernel's view.
func pinAndCheck(cpu int) error {
	if err := affinity.PinThread(cpu); err != nil {
		return err
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return err
	}
	if set.Count() != 1 || !set.IsSet(cpu) {
		return errors.New("sched_getaffinity after PinThread: want only the pinned CPU")
	}
	if got := affinity.Allowed(); !slices.Equal(got, []int{cpu}) {
		return errors.New("Allowed() on the pinned thread: want only the pinned CPU")
	}
	return nil
}

func TestPinThreadOutOfRange(t *testing.T) {
	for _, cpu := range []int{-1, 1 << 16, 1 << 30} {
		if err := affinity.PinThread(cpu); !errors.Is(err, unix.EINVAL) {
			t.Errorf("PinThread(%d): got %v, want EINVAL", cpu, err)
		}
	}
}
