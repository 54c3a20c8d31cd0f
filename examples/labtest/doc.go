// Package example shows lab/labtest from outside tlslab's module: each test
// is one job of attacking your own TLS code from your own go test suite.
package example
