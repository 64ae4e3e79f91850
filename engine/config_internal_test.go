package engine

import (
	"testing"
	"time"
)

// TestLoopConfigCarriesLimits checks that the loop limits of Config reach
// each loop's configuration unchanged: a zero stays zero, for the loop to
// fill with its default, and a negative release delay stays "never".
func TestLoopConfigCarriesLimits(t *testing.T) {
	for _, c := range []Config{
		{MaxFreeIOs: 16, RingReleaseAfter: 5 * time.Millisecond},
		{MaxFreeIOs: 0, RingReleaseAfter: -1},
	} {
		e := &Engine{cfg: c}
		lc := e.loopConfig(0, nil)
		if lc.MaxFreeIOs != c.MaxFreeIOs || lc.Ring.ReleaseAfter != c.RingReleaseAfter {
			t.Errorf("Config{MaxFreeIOs: %d, RingReleaseAfter: %v} gave the loop MaxFreeIOs %d, Ring.ReleaseAfter %v",
				c.MaxFreeIOs, c.RingReleaseAfter, lc.MaxFreeIOs, lc.Ring.ReleaseAfter)
		}
	}
}
