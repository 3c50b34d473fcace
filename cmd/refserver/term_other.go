//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package main

import (
	"errors"
	"os"
)

// echoOff is not available here: the password is echoed, and the prompt
// says so.
func echoOff(*os.File) (func(), error) { return nil, errors.New("echo control not supported") }
