package scenarios

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/actors/sip"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// Restarting one server of a built contoso topology with a changed
// listener, as the eavesdrop families need: fe01 without TLS or with an RSA
// certificate, fe02 and fabrikam-edge01 with RSA certificates on TLS 1.2.

// restartFE01 replaces the topology's fe01 by one configured as the
// topology would, except for its client listener: clientTLS on 5061, or no
// TLS listener when nil. Port 5060 answers when TLSOnly is off. The caller
// closes it.
func restartFE01(ctx context.Context, env *lab.Env, c *contoso.Deployment, clientTLS *tls.Config) (*sip.FrontEnd, error) {
	if err := c.FrontEnd("fe01").Close(); err != nil {
		return nil, fmt.Errorf("scenarios: stopping fe01: %w", err)
	}
	mtls, err := c.MTLSConfig("fe01")
	if err != nil {
		return nil, err
	}
	cfg := frontEndConfig(env, c, "fe01", "fe02", mtls)
	if clientTLS != nil {
		cfg.ClientAddr, cfg.ClientTLS = "10.0.0.11:5061", clientTLS
	}
	if !c.Defenses().TLSOnly {
		cfg.PlainAddr = "10.0.0.11:5060"
	}
	return startFrontEnd(ctx, cfg)
}

// restartFE02 replaces the topology's fe02 by one whose MTLS listener
// presents cred (an RSA certificate) on TLS 1.2, preferring the static-RSA
// suites when the policy allows them; bob is homed on it and fe01 is its
// peer. It checks no revocation. The caller closes it.
func restartFE02(ctx context.Context, env *lab.Env, c *contoso.Deployment, cred pki.Credential) (*sip.FrontEnd, error) {
	if err := c.FrontEnd("fe02").Close(); err != nil {
		return nil, fmt.Errorf("scenarios: stopping fe02: %w", err)
	}
	roots, err := c.Roots("fe02")
	if err != nil {
		return nil, err
	}
	mtls := c.TLS().MTLS(cred.TLS, roots, nil)
	mtls.MaxVersion = tls.VersionTLS12
	if rsa := staticRSASuites(mtls.CipherSuites); len(rsa) > 0 {
		mtls.CipherSuites = rsa
	}
	return startFrontEnd(ctx, frontEndConfig(env, c, "fe02", "fe01", mtls))
}

// contosoFrontEnds are the addresses of Contoso's Front Ends on contoso-lan.
var contosoFrontEnds = map[string]string{"fe01": "10.0.0.11", "fe02": "10.0.0.12"}

// frontEndConfig is the config of Contoso's Front End on host ("fe01" or
// "fe02") as the topology builds it, with peer (the other one) as its only
// peer and trusted server and mtls on its MTLS listener (5062): no client
// or plaintext listener, no Edge. alice and dave are homed on fe01, bob on
// fe02.
func frontEndConfig(env *lab.Env, c *contoso.Deployment, host, peer string, mtls *tls.Config) sip.FrontEndConfig {
	return sip.FrontEndConfig{
		FQDN: host + ".contoso.com", Name: host, Pool: pool01Name, Domain: contoso.Domain, Net: c.Host(host),
		ServerAddr: contosoFrontEnds[host] + ":5062", ServerTLS: mtls,
		Peers: map[string]string{peer + ".contoso.com": contosoFrontEnds[peer] + ":5062"},
		Registrar: sip.NewRegistrar(map[string]string{
			"alice@contoso.com": "fe01.contoso.com", "dave@contoso.com": "fe01.contoso.com", "bob@contoso.com": "fe02.contoso.com",
		}),
		TrustedServers: []string{peer + ".contoso.com"}, SkipTrustedServerCheck: !c.Defenses().TrustedServerList,
		Now: env.World.Now,
	}
}

// startFrontEnd creates and starts the Front End cfg declares, in place of
// the one the caller stopped. The caller closes it.
func startFrontEnd(ctx context.Context, cfg sip.FrontEndConfig) (*sip.FrontEnd, error) {
	fe, err := sip.NewFrontEnd(cfg)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %s: %w", cfg.Name, err)
	}
	if err := fe.Start(ctx); err != nil {
		return nil, fmt.Errorf("scenarios: restarting %s: %w", cfg.Name, err)
	}
	return fe, nil
}

// restartFabrikamEdge replaces the topology's fabrikam-edge01 by one
// configured as the topology would, except for its federation listener: it
// presents a new RSA certificate for sip.fabrikam.com, issued by the CA that
// issued the Edge's current external certificate, on TLS 1.2, preferring
// the static-RSA suites when the policy allows them. Its federation side
// checks no revocation. It returns the new credential (whose key the tap
// steals) and the Edge; the caller closes it.
func restartFabrikamEdge(ctx context.Context, env *lab.Env, c *contoso.Deployment, timeout time.Duration) (pki.Credential, *sip.Edge, error) {
	const host = "fabrikam-edge01"
	cur, ok := c.Credential(host + "-external")
	if !ok {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: %s has no external certificate", host)
	}
	var issuer *pki.CA
	for _, key := range []string{"fabrikam-issuing", "public-issuing"} {
		if ca := c.CA(key); ca != nil && bytes.Equal(ca.Certificate().RawSubject, cur.Leaf.RawIssuer) {
			issuer = ca
			break
		}
	}
	if issuer == nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: no CA of the topology issued %s's external certificate (%s)", host, cur.Leaf.Issuer)
	}
	key, err := rsaKeyOf(host)
	if err != nil {
		return pki.Credential{}, nil, err
	}
	cred, err := issuer.Issue(pki.CertRequest{
		DNSNames: []string{"sip.fabrikam.com"}, Organization: "Fabrikam", KeyType: pki.KeyRSA2048, Purpose: pki.PurposeServerClient, Key: key,
	})
	if err != nil {
		return pki.Credential{}, nil, err
	}
	internal, err := c.MTLSConfig(host)
	if err != nil {
		return pki.Credential{}, nil, err
	}
	fedRoots, err := c.FederationRoots(host)
	if err != nil {
		return pki.Credential{}, nil, err
	}
	external := c.TLS().MTLS(cred.TLS, fedRoots, nil)
	external.MaxVersion = tls.VersionTLS12
	if rsa := staticRSASuites(external.CipherSuites); len(rsa) > 0 {
		external.CipherSuites = rsa
	}
	if timeout <= 0 {
		timeout = contoso.DefaultTimeout
	}
	d := c.Defenses()
	edge, err := sip.NewEdge(sip.EdgeConfig{
		FQDN: "edge01.fabrikam.com", ExternalFQDN: "sip.fabrikam.com", Name: host, Domain: contoso.FabrikamDomain, Net: c.Host(host),
		InternalAddr: "10.1.0.5:5062", InternalTLS: internal,
		ExternalAddr: "203.0.113.20:5061", ExternalTLS: external,
		Resolver:       c.Resolver(host),
		FrontEnds:      map[string]string{"fe01.fabrikam.com": "10.1.0.11:5062"},
		Registrar:      sip.NewRegistrar(map[string]string{"carol@fabrikam.com": "fe01.fabrikam.com"}),
		TrustedServers: []string{"fe01.fabrikam.com", "edge01.fabrikam.com"}, SkipTrustedServerCheck: !d.TrustedServerList,
		Partners: []string{contoso.Domain}, AllowAnyPartner: !d.FederationAllowList,
		AllowSRVTargetOutsideDomain: !d.FederationSRVDomainMatch,
		Timeout:                     timeout, Now: env.World.Now,
	})
	if err != nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: %s: %w", host, err)
	}
	if err := c.Edge(host).Close(); err != nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: stopping %s: %w", host, err)
	}
	if err := edge.Start(ctx); err != nil {
		return pki.Credential{}, nil, fmt.Errorf("scenarios: restarting %s: %w", host, err)
	}
	return cred, edge, nil
}
