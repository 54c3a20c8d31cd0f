package lab

// Sabotage breaks a scenario's attacker on purpose. It exists to prove the
// oracle: a run whose attacker was sabotaged must come out Error, never
// held and never broken, because the attack was not carried out or no
// defense was seen refusing it. Scenarios read it with Env.Sabotage when
// they start their attacker; baselines have none to sabotage.
type Sabotage string

const (
	// SabotageNone runs the attacker as written.
	SabotageNone Sabotage = ""
	// SabotageProxyRefuses makes the attacker's endpoints (interception
	// proxy, rogue DNS server, impersonating dialer) refuse every
	// connection: a reset, or no connection made at all.
	SabotageProxyRefuses Sabotage = "proxy-refuses"
	// SabotageProxyHangs makes them accept and then never answer.
	SabotageProxyHangs Sabotage = "proxy-hangs"
	// SabotageSpooferSilent makes the positioning silent: no spoofed ARP
	// replies, no forged DNS answers, a tap that sees nothing.
	SabotageSpooferSilent Sabotage = "spoofer-silent"
)

// Sabotages lists the sabotages other than SabotageNone.
func Sabotages() []Sabotage {
	return []Sabotage{SabotageProxyRefuses, SabotageProxyHangs, SabotageSpooferSilent}
}
