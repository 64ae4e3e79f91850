package codec

import (
	"bytes"
	"testing"
)

// respFuzzLimits are small, so that the fuzzer reaches every limit.
var respFuzzLimits = &RESPLimits{MaxArgs: 8, MaxBulk: 64, MaxInline: 64}

// respFuzzMaxSplit is the longest input whose splits the fuzz targets
// check: beyond it a parse already crosses every limit of respFuzzLimits,
// and checking splits would only slow the fuzzer down.
const respFuzzMaxSplit = 512

// respFuzzSeeds are the seeds both targets start from, besides the corpus
// under testdata/fuzz.
var respFuzzSeeds = []string{
	"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
	"SET \"a\\x41 b\" 'c\\'d'\r\n",
	"*2\r\n*1\r\n:1\r\n$-1\r\n+OK\r\n",
	"-ERR x\r\n:-42\r\n",
}

// FuzzRESPCommand checks that ParseCommand never panics, that splitting
// its input anywhere changes nothing (see respCheckSplits; inputs up to
// respFuzzMaxSplit bytes), and that a
// command it parses, encoded again with AppendCommand, parses into the
// same arguments.
func FuzzRESPCommand(f *testing.F) {
	for _, s := range respFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p := &respCommandParser{t: t, lim: respFuzzLimits}
		full := p.parse(in)
		if len(in) <= respFuzzMaxSplit {
			full = respCheckSplits(t, in, p.parse)
		}
		if full.n == 0 {
			return
		}
		args, _, _ := ParseCommand(bytes.Clone(in), nil, respFuzzLimits)
		enc := AppendCommand(nil, args...)
		again, n, err := ParseCommand(enc, nil, respFuzzLimits)
		if err != nil || n != len(enc) || respFormatArgs(again) != full.val {
			t.Fatalf("%q parsed as %s, encoded as %q, parsed again as %s using %d of %d bytes, error %v",
				in, full.val, enc, respFormatArgs(again), n, len(enc), err)
		}
	})
}

// FuzzRESPReply checks that ParseReply never panics, that splitting its
// input anywhere changes nothing (up to respFuzzMaxSplit bytes), and that a reply it parses, encoded
// again with the Append functions, gives back exactly the bytes it used:
// the parser accepts only the canonical form.
func FuzzRESPReply(f *testing.F) {
	for _, s := range respFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		parse := func(b []byte) respOutcome { return respParseReplyOutcome(t, b, respFuzzLimits) }
		full := parse(in)
		if len(in) <= respFuzzMaxSplit {
			full = respCheckSplits(t, in, parse)
		}
		if full.n == 0 {
			return
		}
		var r Reply
		_, _ = ParseReply(in, &r, respFuzzLimits)
		if enc := respAppendReply(nil, &r); !bytes.Equal(enc, in[:full.n]) {
			t.Fatalf("%q parsed as %s, encoded again as %q", in[:full.n], full.val, enc)
		}
	})
}
