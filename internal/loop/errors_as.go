package loop

import "reflect"

// The engine declares the public names of these error types on the same
// structs (engine.OpError has OpError's fields). The As methods let
// errors.As match an error made here against a target of such a type, so
// a handler names only the engine's types.

// As sets target to e converted to target's type, when target points to a
// pointer to a struct type with OpError's fields.
func (e *OpError) As(target any) bool { return asSameStruct(e, target) }

// As sets target to e converted to target's type, when target points to a
// pointer to a struct type with PanicError's fields.
func (e *PanicError) As(target any) bool { return asSameStruct(e, target) }

// asSameStruct stores err, a pointer, into *target when target's element
// is a pointer type that err converts to: a pointer to another struct type
// with identical fields. errors.As has already tried plain assignment.
func asSameStruct(err, target any) bool {
	p := reflect.ValueOf(target)
	if p.Kind() != reflect.Pointer || p.IsNil() {
		return false
	}
	dst := p.Elem()
	v := reflect.ValueOf(err)
	if dst.Kind() != reflect.Pointer || !v.Type().ConvertibleTo(dst.Type()) {
		return false
	}
	dst.Set(v.Convert(dst.Type()))
	return true
}
