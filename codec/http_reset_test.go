package codec

import (
	"reflect"
	"testing"
)

// TestRequestResetEveryField checks that Reset, which clears a Request
// field by field, clears every field there is: each field of a Request
// is set to something other than its reset value (by reflection, so that
// a field added later is covered too), and after Reset the Request must
// equal the one a fresh struct literal gives, with the memory of Headers,
// Trailers and the chunk buffer kept.
func TestRequestResetEveryField(t *testing.T) {
	var r Request
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // unexported fields too
		switch f.Kind() {
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 3))
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		case reflect.Bool:
			f.SetBool(true)
		default:
			t.Fatalf("Request.%s: a field of kind %s, which this test does not set", v.Type().Field(i).Name, f.Kind())
		}
	}
	headers, trailers, body := r.Headers, r.Trailers, r.body
	r.Reset()
	want := Request{Headers: headers[:0], Trailers: trailers[:0], ContentLength: -1, body: body[:0]}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("after Reset: %+v\nwant %+v", r, want)
	}
	if cap(r.Headers) != 3 || cap(r.Trailers) != 3 || cap(r.body) != 3 {
		t.Errorf("Reset dropped memory: caps %d %d %d, want 3", cap(r.Headers), cap(r.Trailers), cap(r.body))
	}
}
