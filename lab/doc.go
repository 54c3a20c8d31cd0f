// Package lab turns attacks on the simulated network into measured verdicts.
//
// A [Scenario] describes one attack (or a baseline without one): a name like
// "eavesdrop/tls", labels from a checked list, a one-line summary, a short
// story for people, the verdict the trust model predicts, and a Run function.
// Run builds a topology on a fresh netsim.World, starts actors, lets the attack
// play out and records what it observed in the [Env]:
//
//	Run: func(ctx context.Context, env *lab.Env) error {
//		lan := env.World.NewSegment("lan", netsim.SegmentConfig{})
//		env.Capture(lan) // into the pcapng, when one was asked for
//		secret := env.NewCanary("alice")
//		// ... alice sends secret over TLS (KeyLogWriter: env.KeyLog);
//		// mallory taps lan and collects the TCP payload she saw ...
//		found := lab.FindCanaries(payload, env.Canaries())
//		env.Evidence.CanariesObtained("mallory", len(found), len(env.Canaries()),
//			lab.FormatBytes(len(payload))+" of captured TCP payload")
//		env.Evidence.SetService(lab.ServiceIntact)
//		return nil
//	}
//
// Run never says whether the attack worked. It records facts: lines for
// people ([Evidence.Notef], with the exact error a defense gave), and the
// three kinds of compromise — canaries the attacker obtained
// ([Evidence.CanariesObtained] with found > 0), an attacker identity a victim
// accepted ([Evidence.IdentityAccepted]), an injected message a victim accepted
// ([Evidence.InjectionAccepted]).
//
// # Defenses and topologies
//
// Every defense of the trust model is one switch in [Defenses]; [Hardened]
// turns them all on. A scenario states what it changes
// (Scenario.Defenses), a Runner may override more (Runner.Override, for
// matrix runs), and Run receives the result as Env.Defenses. Nothing reads
// the switches but the topology presets, which translate them once:
// [TLSPolicy] into every tls.Config (chain, hostname and validity checks,
// revocation with a pki.Checker, client certificates, versions and cipher
// suites), and the preset itself into the SIP actors' policy settings,
// resolver policies, DNSSEC and ARP.
//
// The "contoso" preset is declared by a [ContosoConfig]: the enterprise
// LAN with its Front End pool, internal DNS and PKI, the perimeter Edge, the
// Internet with public DNS and a public CA, and the partner fabrikam.com.
// A scenario puts its config in Scenario.Topology, so that report.WriteShow
// (tlslab show) prints the declared world, and builds the running one from
// the same value:
//
//	Topology: contoso.Config{ContosoEdgeOmitsFabrikamRoot: true},
//	Run: func(ctx context.Context, env *lab.Env) error {
//		c, err := contoso.Config{ContosoEdgeOmitsFabrikamRoot: true}.Build(ctx, env)
//		if err != nil {
//			return err
//		}
//		defer c.Close()
//		alice, err := c.Client("alice", "alice@contoso.com")
//		// ... alice.SendMessage(ctx, "carol@fabrikam.com", canary);
//		// c.Edge("edge01").Rejections() says why it did not arrive ...
//	}
//
// # Running
//
// A [Runner] runs scenarios one at a time, each in a fresh World under a
// deadline, and decides the verdict with [Decide]: Error if Run failed,
// panicked or overran; Broken if any compromise was recorded; Held otherwise.
// Only then is the verdict compared with the scenario's Expected, to set
// [Result.OK]; the expectation never feeds the verdict, so a scenario that is
// expected to be broken but records no compromise comes out held, and the
// mismatch shows.
//
//	results := lab.Runner{PcapDir: "out", KeyLogDir: "out"}.RunAll(ctx, picked)
//	report.WriteTable(os.Stdout, results)
//
// A [Catalog] holds the known scenarios and picks some by name or label
// ([Catalog.Select]); unknown names get suggestions by edit distance. With
// PcapDir and KeyLogDir set, each scenario leaves "<family>-<name>.pcapng"
// and "<family>-<name>.keys", which Wireshark opens together to show the
// decrypted traffic.
//
// # Around the core
//
// Sub-packages build on these types and lab imports none of them:
// lab/report writes results as a table, JSON, JUnit XML or a Markdown
// handout, and describes a scenario (tlslab show); lab/matrix runs every
// attack with the hardened defaults and with each defense switch changed
// alone, and checks the verdicts' honesty; lab/baseline stores the
// outcomes of a run or a matrix and names the cells that changed since.
package lab
