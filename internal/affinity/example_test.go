package affinity_test

import (
	"fmt"

	"github.com/pinion-net/pinion/internal/affinity"
)

func ExampleAllowed() {
	cpus := affinity.Allowed()
	fmt.Println(len(cpus) > 0, cpus[0] >= 0)
	// Output: true true
}
