// Package lab turns attacks on the simulated network into verdicts backed
// by evidence. It is the core the rest of tlslab builds on: the scenario,
// its environment, the evidence it records, the verdict rule, the runner,
// the defense switches and the one TLS policy they become.
//
// A [Scenario] describes one attack (or a baseline without one): a name like
// "eavesdrop/tls", labels from a checked list, a one-line summary, a short
// story for people, the verdict the trust model predicts (with, for held,
// the defense expected to stop it), and a Run function. Run builds a
// topology on a fresh netsim.World, starts actors, lets the attack play out
// and records what it observed in the [Env]:
//
//	Run: func(ctx context.Context, env *lab.Env) error {
//		c, err := contoso.Config{}.Build(ctx, env) // package lab/contoso
//		if err != nil {
//			return err
//		}
//		defer c.Close()
//		secret := env.NewCanary("alice")
//		// ... alice sends secret to dave over SIP/TLS; mallory taps
//		// contoso-lan and collects the TCP payload she saw ...
//		found := lab.FindCanaries(payload, env.Canaries())
//		env.Evidence.CanariesObtained("mallory", len(found), len(env.Canaries()),
//			lab.FormatBytes(len(payload))+" of captured TCP payload")
//		return nil
//	}
//
// Run never says whether the attack worked. It records typed facts in
// [Evidence]: how far the attack got ([Evidence.Reached]: attempted, in
// position, presented, relayed), which defense refused it, where and with
// what exact error ([Evidence.Refused], [Evidence.NoteFailure] with
// [ClassifyRefusal]), whether the victim's message was delivered, and the
// three kinds of compromise: canaries the attacker obtained, an attacker
// identity a victim accepted, an injected message a victim accepted.
//
// # The verdict
//
// [Decide] judges those facts, never the scenario's expectation: broken
// when a compromise was seen; held only when a defense that is switched
// on was seen refusing an attack that was really carried out (a
// positioning defense — ARP policy, DNSSEC validation, DNS randomisation —
// against an attempt that never got in position, any other once the
// attacker was in position); passed for a baseline that delivered its
// canary; and error otherwise — a failed run, or an [InconclusiveError]
// saying why nothing could be concluded. Only then is the verdict compared
// with the expectation, to set [Result.OK].
//
// # Defenses
//
// Every defense of the trust model is one switch in [Defenses], listed once
// in [Switches], from which the CLI's names, the scenario file schema and
// the matrix columns derive; [Hardened] turns them all on. A scenario
// states what it changes, a Runner may override more, and Run receives the
// result as Env.Defenses. Only topology presets read the switches, once:
// [Env.TLSPolicy] gives the [TLSPolicy] every tls.Config of the defended
// deployment comes from (chain, hostname and validity checks, revocation,
// client certificates, versions, cipher suites), and the preset translates
// the rest into the actors' own settings.
//
// # Running and watching
//
// A [Runner] runs each scenario in a fresh World under a deadline, with
// optional pcapng captures and NSS key logs ("<family>-<name>.pcapng" and
// ".keys", which Wireshark opens together), and judges it. A [Catalog]
// holds the known scenarios and selects them by name or label.
// [Runner.RunObserved] lets an [Observer] watch a run — frames, key log
// lines, certificate decisions, evidence — without changing it.
//
// # Around the core
//
// Sub-packages build on these types; lab imports none of them.
// lab/contoso is the enterprise SIP topology preset; lab/labtest puts the
// lab's network, attackers and oracle in a go test suite; lab/timeline records
// a run step by step as an Observer; lab/report writes results as a table,
// JSON, JUnit XML or a Markdown handout, and describes a scenario;
// lab/matrix runs every attack with the hardened defaults and with each
// switch changed alone; lab/baseline stores the outcomes of a run or a
// matrix and names the cells that changed.
package lab
