package affinity_test

import (
	"runtime"
	"testing"

	"github.com/pinion-net/pinion/internal/affinity"
)

func TestAllowed(t *testing.T) {
	cpus := affinity.Allowed()
	if len(cpus) == 0 {
		t.Fatal("Allowed() is empty, want at least one CPU")
	}
	if len(cpus) < runtime.NumCPU() {
		// runtime.NumCPU is computed from the same mask at start-up.
		t.Errorf("Allowed() has %d CPUs, want at least runtime.NumCPU() = %d", len(cpus), runtime.NumCPU())
	}
	for i, cpu := range cpus {
		if cpu < 0 {
			t.Errorf("Allowed()[%d] = %d, want >= 0", i, cpu)
		}
		if i > 0 && cpu <= cpus[i-1] {
			t.Errorf("Allowed()[%d] = %d after %d, want strictly ascending (and so unique)", i, cpu, cpus[i-1])
		}
	}
}

func TestPinThreadNegative(t *testing.T) {
	if err := affinity.PinThread(-1); err == nil {
		t.Error("PinThread(-1) = nil, want an error")
	}
}
