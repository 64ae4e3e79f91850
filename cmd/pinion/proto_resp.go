package main

import "errors"

func newRESP(protoOptions) (protocol, error) { return nil, errors.New("-proto resp is being built") }
