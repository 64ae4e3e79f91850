package engine

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"syscall"
	"testing"

	"github.com/pinion-net/pinion/internal/loop"
)

// methods returns the names of t's exported methods.
func methods(t reflect.Type) []string {
	var out []string
	for i := range t.NumMethod() {
		out = append(out, t.Method(i).Name)
	}
	return out
}

// engineOnly are the methods of a loop that only the engine calls: a
// handler's Loop must not have them.
var engineOnly = []string{
	"AddListener", "Abort", "Blocked", "DialAsync", "Done", "Drain", "GoroutineID", "HandOver",
	"Published", "Quiesce", "RetryOffload", "Run", "RunOn", "SetLimits", "Started", "Stats", "StopAccepting",
}

// engineOnlyConn are the methods of a connection that only the engine
// calls: the PROXY protocol wrapper sets the addresses of the header.
var engineOnlyConn = []string{"Peer", "SetPeer"}

// TestSurfaceCoversLoop checks that every method of the loop's types is
// declared on the engine's name of the type, so a method added below is
// documented (and reachable) where users look, and that the loop view has
// none of the methods that stop, rerun or rewire a loop.
func TestSurfaceCoversLoop(t *testing.T) {
	pairs := []struct {
		inner, outer reflect.Type
		except       []string
	}{
		{reflect.TypeFor[*loop.Conn](), reflect.TypeFor[*Conn](), engineOnlyConn},
		{reflect.TypeFor[loop.Handle](), reflect.TypeFor[Handle](), nil},
		{reflect.TypeFor[*loop.Session](), reflect.TypeFor[*Session](), nil},
		{reflect.TypeFor[*loop.Timer](), reflect.TypeFor[*Timer](), nil},
		{reflect.TypeFor[*loop.Loop](), reflect.TypeFor[*Loop](), engineOnly},
	}
	for _, p := range pairs {
		have := methods(p.outer)
		for _, m := range methods(p.inner) {
			switch in, ex := slices.Contains(have, m), slices.Contains(p.except, m); {
			case ex && in:
				t.Errorf("%v has %s, which only the engine may call", p.outer, m)
			case !ex && !in:
				t.Errorf("%v lacks %s of %v: declare a wrapper (or list it as engine-only)", p.outer, m, p.inner)
			}
		}
	}
}

// TestLoopStatsLayout checks what loopStats relies on: LoopStats and
// loop.Stats have the same fields, in the same order, at the same offsets,
// of the same types, but for the histogram's two names of one struct.
func TestLoopStatsLayout(t *testing.T) {
	in, out := reflect.TypeFor[loop.Stats](), reflect.TypeFor[LoopStats]()
	if in.NumField() != out.NumField() || in.Size() != out.Size() {
		t.Fatalf("loop.Stats has %d fields (%d bytes), LoopStats %d (%d bytes)", in.NumField(), in.Size(), out.NumField(), out.Size())
	}
	for i := range in.NumField() {
		a, b := in.Field(i), out.Field(i)
		same := a.Type == b.Type || (a.Type.ConvertibleTo(b.Type) && a.Type.Kind() == reflect.Struct && a.Type.Size() == b.Type.Size())
		if a.Name != b.Name || a.Offset != b.Offset || !same {
			t.Errorf("field %d: loop.Stats has %s %v at %d, LoopStats %s %v at %d", i, a.Name, a.Type, a.Offset, b.Name, b.Type, b.Offset)
		}
	}
	s := loop.Stats{Loop: 3}
	s.BytesIn, s.OffloadPanics, s.Outbound = 7, 9, 11
	s.TickTime.Counts[4] = 5
	got := loopStats(s)
	if got.Loop != 3 || got.BytesIn != 7 || got.OffloadPanics != 9 || got.Outbound != 11 || got.TickTime.Counts[4] != 5 {
		t.Errorf("loopStats: got %+v", got)
	}
}

// TestErrorsUnderEngineNames checks that the loops' errors match the
// engine's names with errors.Is and errors.As, also wrapped.
func TestErrorsUnderEngineNames(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	if !errors.Is(wrap(loop.ErrIdleTimeout), ErrIdleTimeout) {
		t.Error("errors.Is(loop.ErrIdleTimeout, ErrIdleTimeout) is false")
	}
	oe := wrap(&loop.OpError{Op: "read", Err: syscall.ECONNRESET})
	var op *OpError
	if !errors.As(oe, &op) || op.Op != "read" || op.Err != syscall.ECONNRESET {
		t.Errorf("errors.As(%v, *OpError): got %+v", oe, op)
	}
	if !errors.Is(oe, syscall.ECONNRESET) {
		t.Errorf("errors.Is(%v, ECONNRESET) is false", oe)
	}
	if op.Error() != oe.(interface{ Unwrap() error }).Unwrap().Error() {
		t.Errorf("OpError.Error: got %q, want the loop's %q", op.Error(), errors.Unwrap(oe).Error())
	}
	pe := wrap(&loop.PanicError{Callback: "OnData", Value: "boom"})
	if p, ok := errors.AsType[*PanicError](pe); !ok || p.Callback != "OnData" || p.Value != "boom" {
		t.Errorf("errors.AsType[*PanicError](%v): got %+v, %v", pe, p, ok)
	}
	// The loop's own names still match, and unrelated targets do not.
	if _, ok := errors.AsType[*loop.PanicError](pe); !ok {
		t.Error("errors.As no longer matches the loop's own *PanicError")
	}
	if _, ok := errors.AsType[*PanicError](oe); ok {
		t.Error("an *OpError matched *PanicError")
	}
	var ne interface{ Timeout() bool }
	if errors.As(pe, &ne) {
		t.Error("a *PanicError matched an interface it does not implement")
	}
}
