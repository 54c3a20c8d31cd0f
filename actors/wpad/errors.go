package wpad

import "fmt"

// SyntaxError is a PAC file the evaluator cannot compile.
type SyntaxError struct {
	// Line is the 1-based line of the problem.
	Line int
	// Problem says what was found and what was wanted.
	Problem string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("wpad: PAC line %d: %s", e.Line, e.Problem) }

// EvalError is a failure while running a PAC file, or reading its answer.
type EvalError struct {
	// Line is the 1-based line of the call that failed; 0 when unknown.
	Line int
	// Problem says what went wrong.
	Problem string
}

func (e *EvalError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("wpad: PAC line %d: %s", e.Line, e.Problem)
	}
	return "wpad: PAC: " + e.Problem
}

// ConfigError reports a configuration that cannot work.
type ConfigError struct {
	// What is the component, e.g. "proxy".
	What string
	// Problem says what is wrong and what would be right.
	Problem string
}

func (e *ConfigError) Error() string { return "wpad: " + e.What + ": " + e.Problem }
