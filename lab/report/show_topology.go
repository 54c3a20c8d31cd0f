package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tlslab/tlslab/lab"
)

func writeTopology(w io.Writer, td lab.TopologyDescription) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("\nTopology: %s\n", td.Preset)
	for _, o := range td.Options {
		p("  %s\n", o)
	}

	p("\nSegments\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range td.Segments {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Prefix, s.Doc)
	}
	tw.Flush()

	var routers, hosts, attackers []lab.HostDescription
	for _, h := range td.Hosts {
		switch {
		case h.Attacker:
			attackers = append(attackers, h)
		case h.Router:
			routers = append(routers, h)
		default:
			hosts = append(hosts, h)
		}
	}
	if len(routers) > 0 {
		p("\nRouters\n")
		for _, h := range routers {
			writeHost(w, h)
		}
	}
	p("\nHosts\n")
	for _, h := range hosts {
		writeHost(w, h)
	}
	if len(attackers) > 0 {
		p("\nAttacker (added by the scenario)\n")
		for _, h := range attackers {
			writeHost(w, h)
		}
	}

	if len(td.CAs) > 0 {
		p("\nCertification authorities\n")
		for _, c := range td.CAs {
			issuer := "self-signed root"
			if c.Issuer != "" {
				issuer = "issued by " + c.Issuer
			}
			p("  %s: %s, %s\n", c.Name, c.Role, issuer)
			if c.CRL != "" || c.OCSP != "" {
				p("      what it issues names CRL %s, OCSP %s\n", orDash(c.CRL), orDash(c.OCSP))
			} else {
				p("      publishes no CRL or OCSP\n")
			}
		}
	}
	if len(td.Certificates) > 0 {
		p("\nCertificates (holder, names, purpose, key, issuer, status)\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range td.Certificates {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.Holder, strings.Join(c.Names, ", "), c.Purpose, c.Key, c.Issuer, c.Status)
		}
		tw.Flush()
	}
	if len(td.Trust) > 0 {
		p("\nTrust stores\n")
		for _, t := range td.Trust {
			p("  %s\n    trusts %s\n", t.Who, strings.Join(t.Roots, ", "))
		}
	}
	if len(td.Zones) > 0 {
		p("\nDNS zones\n")
		for _, z := range td.Zones {
			signed := "unsigned"
			if z.Signed {
				signed = "DNSSEC-signed"
			}
			p("  %s (%s view) on %s, %s\n", z.Origin, z.View, z.Server, signed)
			for _, r := range z.Records {
				p("    %s\n", r)
			}
		}
	}
	if len(td.Users) > 0 {
		p("\nSIP users\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, u := range td.Users {
			client := "no client"
			if u.Host != "" {
				client = "client on " + u.Host
			}
			fmt.Fprintf(tw, "  %s\thomed on %s\t%s\n", u.User, u.Home, client)
		}
		tw.Flush()
	}
}

// writeHost prints one host as a short block: name and role, then its
// NICs and routes, names, services.
func writeHost(w io.Writer, h lab.HostDescription) {
	fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Role)
	var nics []string
	for _, n := range h.NICs {
		nics = append(nics, n.Segment+" "+n.Addr.String())
	}
	net := strings.Join(nics, ", ")
	for _, r := range h.Routes {
		net += "; " + r
	}
	if h.Resolver != "" {
		net += "; DNS " + h.Resolver
	}
	fmt.Fprintf(w, "      %s\n", net)
	if len(h.Names) > 0 {
		fmt.Fprintf(w, "      names: %s\n", strings.Join(h.Names, ", "))
	}
	if len(h.Services) > 0 {
		fmt.Fprintf(w, "      serves: %s\n", strings.Join(h.Services, ", "))
	}
}
