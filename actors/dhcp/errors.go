package dhcp

import (
	"errors"
	"time"
)

// ConfigError reports a server or client configuration that cannot work:
// what was being configured and what is wrong with it.
type ConfigError struct {
	What    string
	Problem string
}

func (e *ConfigError) Error() string { return "dhcp: " + e.What + ": " + e.Problem }

// ErrNoOffer is the cause of an *AcquireError when no server offered an
// address within the client's tries.
var ErrNoOffer = errors.New("no DHCPOFFER")

// ErrNoAck is the cause of an *AcquireError when the chosen server did not
// answer the REQUEST within the client's tries.
var ErrNoAck = errors.New("no DHCPACK")

// ErrNak is the cause of an *AcquireError when the server refused the
// address the client asked for.
var ErrNak = errors.New("DHCPNAK")

// AcquireError is the error of a failed lease acquisition or renewal: the
// step that failed, after how many tries, and why (ErrNoOffer, ErrNoAck,
// ErrNak, or the socket's or NIC's error); test the cause with errors.Is.
type AcquireError struct {
	Step  string // "discover", "request" or "configure"
	Tries int
	Wait  time.Duration // how long each try waited
	Err   error
}

func (e *AcquireError) Error() string {
	msg := "dhcp: " + e.Step + ": " + e.Err.Error()
	if e.Tries > 0 {
		msg += " after " + itoa(e.Tries) + " tries of " + e.Wait.String()
	}
	return msg
}

func (e *AcquireError) Unwrap() error { return e.Err }

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
