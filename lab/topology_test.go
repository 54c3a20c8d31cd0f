package lab_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tlslab/tlslab/lab"
)

// fixedTopology is a declared world for the change tests: two hosts
// sharing a trust store, one CA, one certificate.
type fixedTopology struct{ err error }

func (f fixedTopology) Describe(lab.Defenses) lab.TopologyDescription {
	return lab.TopologyDescription{
		Preset: "fixed",
		Hosts:  []lab.HostDescription{{Name: "alice", Resolver: "10.0.0.53"}, {Name: "srv"}},
		CAs:    []lab.CADescription{{Name: "Evil CA", Role: "in no trust store"}},
		Certificates: []lab.CertificateDescription{
			{Holder: "srv", Names: []string{"srv.lab.test"}, Key: "ECDSA P-256", Status: "valid"},
		},
		Trust: []lab.TrustDescription{{Who: "members: alice, srv", Roots: []string{"Lab CA"}, Group: "members", Members: []string{"alice", "srv"}}},
	}
}

func (f fixedTopology) Validate() error { return f.err }

func TestWithChanges(t *testing.T) {
	base := fixedTopology{}
	if got := lab.WithChanges(base); got != lab.Topology(base) {
		t.Errorf("WithChanges without changes = %#v, want the base", got)
	}
	changed := lab.WithChanges(base,
		lab.AddHost(lab.HostDescription{Name: "mallory", Attacker: true}),
		lab.AddRoute("alice", "10.0.0.20/32 via 10.0.0.66"),
		lab.SetResolver("alice", "10.0.0.66"),
		lab.AddCA(lab.CADescription{Name: "Evil CA", Role: "made for the run", OCSP: "http://10.0.0.66/ocsp"}),
		lab.CopyCertificate("srv", "mallory", "stolen"),
		lab.TrustRoots("alice", "alice (Evil CA installed)", "Evil CA"),
		lab.AddOption("srv is down"),
	)
	td := changed.Describe(lab.Hardened())
	want := base.Describe(lab.Hardened())
	want.Options = []string{"srv is down"}
	want.Hosts = []lab.HostDescription{
		{Name: "alice", Resolver: "10.0.0.66", Routes: []string{"10.0.0.20/32 via 10.0.0.66"}},
		{Name: "srv"}, {Name: "mallory", Attacker: true},
	}
	want.CAs = []lab.CADescription{{Name: "Evil CA", Role: "made for the run", OCSP: "http://10.0.0.66/ocsp"}}
	want.Certificates = append(want.Certificates, lab.CertificateDescription{Holder: "mallory", Names: []string{"srv.lab.test"}, Key: "ECDSA P-256", Status: "stolen"})
	want.Trust = []lab.TrustDescription{
		{Who: "members: srv", Roots: []string{"Lab CA"}, Group: "members", Members: []string{"srv"}},
		{Who: "alice (Evil CA installed)", Roots: []string{"Lab CA", "Evil CA"}, Members: []string{"alice"}},
	}
	if !reflect.DeepEqual(td, want) {
		t.Errorf("Describe:\n got %#v\nwant %#v", td, want)
	}
	if again := changed.Describe(lab.Hardened()); !reflect.DeepEqual(again, td) {
		t.Errorf("a second Describe differs: the changes edited the base's description in place")
	}
	if fresh := base.Describe(lab.Hardened()); !reflect.DeepEqual(fresh.Trust[0].Members, []string{"alice", "srv"}) {
		t.Errorf("the base's members are now %q", fresh.Trust[0].Members)
	}

	// Declarations made alike are equal, as scenario files compare them.
	again := lab.WithChanges(base, lab.TrustRoots("alice", "alice (Evil CA installed)", "Evil CA"))
	if !reflect.DeepEqual(again, lab.WithChanges(base, lab.TrustRoots("alice", "alice (Evil CA installed)", "Evil CA"))) {
		t.Error("two equal declarations differ under reflect.DeepEqual")
	}

	bad := errors.New("bad base")
	v, ok := lab.WithChanges(fixedTopology{err: bad}, lab.AddOption("x")).(interface{ Validate() error })
	if !ok || !errors.Is(v.Validate(), bad) {
		t.Errorf("Validate of a changed topology: %v; want the base's error", v)
	}
}
