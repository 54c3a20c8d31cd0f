package autodiscover

import "fmt"

// ConfigError reports a configuration that cannot work.
type ConfigError struct {
	// What is the component: "service" or "client".
	What string
	// Problem says what is wrong and what would be right.
	Problem string
}

func (e *ConfigError) Error() string { return "autodiscover: " + e.What + ": " + e.Problem }

// DeclinedError is Discover's failure when the user declined the prompt
// for a pool outside the SIP domain: sign-in stops there, as the Lync
// client's does.
type DeclinedError struct {
	// Pool is the FQDN the user was asked about.
	Pool string
	// Source is what offered it, e.g. the autodiscover URL or SRV record.
	Source string
}

func (e *DeclinedError) Error() string {
	return fmt.Sprintf("autodiscover: the user declined to trust %s (from %s): it is outside the SIP domain and its domain is not in the Trusted Domain List", e.Pool, e.Source)
}

// NotFoundError is Discover's failure when every step of the chain failed
// or was refused.
type NotFoundError struct {
	// Domain is the SIP domain.
	Domain string
	// Steps is how many steps were taken.
	Steps int
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("autodiscover: no SIP pool found for %s after %d steps", e.Domain, e.Steps)
}
