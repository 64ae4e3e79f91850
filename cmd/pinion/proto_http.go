package main

import "errors"

func newHTTP(protoOptions) (protocol, error) { return nil, errors.New("-proto http is being built") }
