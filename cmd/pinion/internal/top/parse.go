package top

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// sample is one scrape: each series ("name" or "name{labels}", as the
// exposition writes it) and its value.
type sample map[string]float64

// parse reads the Prometheus text format. Comments are skipped; a line
// that is not "series value" is an error.
func parse(r io.Reader) (sample, error) {
	s := sample{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			return nil, fmt.Errorf("top: unreadable metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("top: unreadable metrics line %q: %w", line, err)
		}
		s[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("top: reading metrics: %w", err)
	}
	return s, nil
}

// loop returns the value of name{loop="id"} with extra labels after the
// loop's (e.g. `reason="idle"`), or 0.
func (s sample) loop(name string, id int, extra string) float64 {
	k := name + `{loop="` + strconv.Itoa(id) + `"`
	if extra != "" {
		k += "," + extra
	}
	return s[k+"}"]
}

// loops returns how many loops the sample has (pinion_loops), or 0.
func (s sample) loops() int { return int(s["pinion_loops"]) }

// buckets returns the cumulative bucket counts of histogram name (with the
// loop label when id >= 0) by upper edge in seconds, in the order the
// engine writes them: ascending, +Inf last.
func (s sample) buckets(name string, id int) (edges []float64, counts []float64) {
	prefix := name + "_bucket{"
	if id >= 0 {
		prefix += `loop="` + strconv.Itoa(id) + `",`
	}
	prefix += `le="`
	for k, v := range s {
		le, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		le = strings.TrimSuffix(le, `"}`)
		e, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		if err != nil {
			continue
		}
		edges = append(edges, e)
		counts = append(counts, v)
	}
	// Sort both by edge (a few dozen entries).
	for i := 1; i < len(edges); i++ {
		for j := i; j > 0 && edges[j] < edges[j-1]; j-- {
			edges[j], edges[j-1] = edges[j-1], edges[j]
			counts[j], counts[j-1] = counts[j-1], counts[j]
		}
	}
	return edges, counts
}

// quantile returns the upper edge of the bucket holding the q-quantile of
// what histogram name counted between prev and cur (all of cur when prev
// is nil or saw nothing new), in seconds; 0 when it counted nothing.
func quantile(prev, cur sample, name string, id int, q float64) float64 {
	edges, counts := cur.buckets(name, id)
	if len(counts) == 0 {
		return 0
	}
	if prev != nil {
		_, before := prev.buckets(name, id)
		if len(before) == len(counts) && counts[len(counts)-1] > before[len(before)-1] {
			for i := range counts {
				counts[i] -= before[i]
			}
		}
	}
	total := counts[len(counts)-1]
	if total <= 0 {
		return 0
	}
	for i, c := range counts {
		if c >= q*total {
			return edges[i]
		}
	}
	return edges[len(edges)-1]
}
