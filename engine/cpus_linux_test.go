package engine_test

import (
	"context"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pinion-net/pinion/engine"
)

// cpuReporter reports the CPU mask of the loop thread running OnOpen.
type cpuReporter struct {
	engine.BaseHandler
	masks chan unix.CPUSet
}

func (h *cpuReporter) OnOpen(*engine.Conn) {
	var set unix.CPUSet
	_ = unix.SchedGetaffinity(0, &set)
	h.masks <- set
}

// TestConfigCPUs covers "two engines in one process both pin their loop 0
// to CPU 0": Config.CPUs says where the loops are pinned.
func TestConfigCPUs(t *testing.T) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil || allowed.Count() < 2 {
		t.Skip("needs two CPUs to tell a chosen CPU from the default")
	}
	last := -1
	for cpu := range 1024 {
		if allowed.IsSet(cpu) {
			last = cpu
		}
	}
	h := &cpuReporter{masks: make(chan unix.CPUSet, 1)}
	e, err := engine.Start(h, engine.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, Pin: engine.PinOn, CPUs: []int{last}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Shutdown(context.Background()) }()
	c, err := net.Dial("tcp", e.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case set := <-h.masks:
		if set.Count() != 1 || !set.IsSet(last) {
			t.Fatalf("loop 0 runs on %d CPUs (CPU %d set: %v); want only CPU %d", set.Count(), last, set.IsSet(last), last)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen")
	}
	for _, bad := range []engine.Config{{CPUs: []int{-1}}, {TaskBudget: -1}, {ReadBudget: -1}, {AcceptBudget: -1}} {
		if e, err := engine.Start(engine.BaseHandler{}, bad); err == nil {
			_ = e.Shutdown(context.Background())
			t.Errorf("Start with %+v: nil error; want one", bad)
		}
	}
}
