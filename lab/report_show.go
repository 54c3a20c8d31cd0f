package lab

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ShowWidth is the line width WriteShow wraps prose to.
const ShowWidth = 100

// WriteShow describes a scenario before it runs, for people (tlslab
// show): its name, summary, labels and expected outcome in the form of
// Result.ExpectedOutcome, which names the declared decisive defense
// (Scenario.StoppedBy) when held is expected ("expected: held
// (chain-validation)", "expected: broken", "expected: passed"); its story;
// the declared topology (options, segments, routers, hosts with NICs,
// addresses and names, CAs, certificates and their issuers, trust stores,
// DNS zones, users); and every defense switch of Settings, with a "*" on
// the ones the scenario changed from Hardened. d is the set of defenses to
// show, normally s.DefensesFor(). It returns the first write error.
func WriteShow(w io.Writer, s Scenario, d Defenses) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("%s\n", s.Name)
	p("  %s\n", s.Summary)
	labels := make([]string, len(s.Labels))
	for i, l := range s.Labels {
		labels[i] = string(l)
	}
	expected := Result{Expected: s.Expected}
	if s.Expected == Held {
		expected.ExpectedStoppedBy = s.StoppedBy
	}
	p("  labels: %s\n  expected: %s\n", orDash(strings.Join(labels, ", ")), expected.ExpectedOutcome())

	p("\nStory\n")
	for _, line := range wrap(s.Story, ShowWidth-2) {
		p("  %s\n", line)
	}

	if s.Topology == nil {
		p("\nTopology\n  not declared: the scenario builds its own world (see the story)\n")
	} else {
		writeTopology(bw, s.Topology.Describe(d))
	}

	p("\nDefenses (* = changed by this scenario from the hardened defaults)\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	base := Hardened().Settings()
	for i, set := range d.Settings() {
		mark, value := " ", set.Value
		if set.Value != base[i].Value {
			mark, value = "*", fmt.Sprintf("%s (hardened: %s)", set.Value, base[i].Value)
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\n", mark, set.Name, value, set.Doc)
	}
	tw.Flush()
	return bw.Flush()
}

func writeTopology(w io.Writer, td TopologyDescription) {
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

	var routers, hosts []HostDescription
	for _, h := range td.Hosts {
		if h.Router {
			routers = append(routers, h)
		} else {
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
func writeHost(w io.Writer, h HostDescription) {
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

// wrap breaks s into lines of at most width runes at spaces (longer words
// stand alone).
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && len([]rune(cur.String()))+1+len([]rune(word)) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	if len(lines) == 0 {
		lines = []string{"-"}
	}
	return lines
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
