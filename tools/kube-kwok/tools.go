//go:build tools

// Package tools pins the kwok command that build.sh compiles, so that
// `go mod tidy` keeps its dependencies in go.mod/go.sum.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
