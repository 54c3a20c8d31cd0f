// Package contoso is the lab's topology preset: the enterprise SIP
// deployment of the trust model, declared by a [Config] and built on a
// run's World by [Config.Build].
//
// The declared world is the Contoso LAN (contoso-lan, 10.0.0.0/24) with
// alice's client, the Front End pool pool01.contoso.com (fe01, fe02), the
// internal DNS server dns01 and the enterprise PKI on pki01; the perimeter
// with the Edge edge01; the Internet with public DNS and a public CA; and
// the federated partner fabrikam.com with its own pool, Edge, DNS and PKI.
// Config's fields change it: federation through partner CAs or the public
// CA, Edges that leave a partner's root out, insiders (servers with a
// Contoso certificate the topology does not list), certificates revoked
// at build time, time-outs.
//
// A scenario puts its Config in lab.Scenario.Topology, so that `tlslab
// show` prints the declared world ([Config.Describe]), and builds the
// running one from the same value:
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
// Build reads the run's defenses (env.Defenses) once: every TLS config
// comes from env.TLSPolicy(), and the preset translates the other
// switches into the SIP actors' policies, the resolvers' randomisation,
// DNSSEC signing and validation, and the hosts' ARP policy. The
// [Deployment] it returns gives scenarios the hosts, segments, CAs,
// credentials, resolvers and servers, and a place to attach attackers
// ([Deployment.AttachHost]).
//
// The PKI — seven CAs and their certificates — is built once per process
// for each distinct declaration and forked into every run (pki.CA.Fork):
// each run presents the same certificates and keeps what it issues or
// revokes to itself.
package contoso
