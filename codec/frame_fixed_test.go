package codec_test

import (
	"testing"

	"github.com/pinion-net/pinion/codec"
)

func TestFixedDecode(t *testing.T) {
	three, _ := codec.NewFixed(3)
	one, _ := codec.NewFixed(1)
	frameRun(t, []frameCase{
		{name: "empty input", dec: three, in: ""},
		{name: "short", dec: three, in: "ab", rest: 2},
		{name: "exact", dec: three, in: "abc", want: []string{"abc"}},
		{name: "several and a partial", dec: three, in: "abcdef\x00\r\ngh", want: []string{"abc", "def", "\x00\r\n"}, rest: 2},
		{name: "size 1", dec: one, in: "xyz", want: []string{"x", "y", "z"}},
	})
}

func TestNewFixed(t *testing.T) {
	for _, size := range []int{0, -1} {
		if f, err := codec.NewFixed(size); err == nil {
			t.Errorf("NewFixed(%d) = %+v, want an error", size, f)
		}
	}
	if f, err := codec.NewFixed(16); err != nil || f.Size != 16 {
		t.Errorf("NewFixed(16) = %+v, %v", f, err)
	}
}
