package engine_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pinion-net/pinion/engine"
)

// docsMetricRow is a row of a metric table in docs/observability.md: the
// family as scraped (counters with _total), its labels, its type.
var docsMetricRow = regexp.MustCompile("^\\| `(pinion_[a-z0-9_]+)(\\{[a-z,]+\\})?` \\| (gauge|counter|histogram) \\|")

// TestMetricsDocumented checks docs/observability.md against what
// WriteMetrics exposes, both ways: every family of an engine with every
// optional part on (the offload pool, the PROXY protocol) has a row with
// its type, and every row names a family that exists. The counters and
// gauges are listed once in code (internal/loop's tables, iterated by
// WriteMetrics, Stats and the admin server); this keeps the one list
// written by hand, the documentation, in step with them.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "observability.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		if m := docsMetricRow.FindStringSubmatch(line); m != nil {
			if _, dup := documented[m[1]]; dup {
				t.Errorf("docs/observability.md lists %s twice", m[1])
			}
			documented[m[1]] = m[3]
		}
	}

	e, _, _ := startEcho(t, engine.Config{
		OffloadWorkers: 1,
		ProxyProtocol:  engine.ProxyProtocol{Mode: engine.ProxyRequire, Trusted: proxyTrustLoopback},
	})
	exposed := map[string]string{}
	for _, line := range strings.Split(string(scrape(t, e)), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			exposed[name] = typ
		}
	}
	if len(exposed) < 20 {
		t.Fatalf("WriteMetrics exposes %d families, want the whole set", len(exposed))
	}
	for name, typ := range exposed {
		switch got, ok := documented[name]; {
		case !ok:
			t.Errorf("%s (%s) is exposed but not in docs/observability.md", name, typ)
		case got != typ:
			t.Errorf("%s is a %s, docs/observability.md says %s", name, typ, got)
		}
	}
	for name := range documented {
		if _, ok := exposed[name]; !ok {
			t.Errorf("docs/observability.md lists %s, which WriteMetrics does not expose", name)
		}
	}
}
