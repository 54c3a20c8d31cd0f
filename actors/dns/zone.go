package dns

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	miekg "github.com/miekg/dns"
)

// DefaultTTL is the TTL of records made by A, SRV and CNAME, of zone-file
// lines without one (and no $TTL), and of the SOA record NewZone creates.
const DefaultTTL = 3600

// maxChain bounds CNAME chains, in the server and in the resolver.
const maxChain = 8

// A returns an A record. name is absolute; the trailing dot is optional.
func A(name string, addr netip.Addr) *miekg.A {
	return &miekg.A{Hdr: header(name, miekg.TypeA), A: net.IP(addr.AsSlice())}
}

// SRV returns an SRV record, e.g.
// SRV("_sip._tls.contoso.com", 0, 0, 443, "sip.contoso.com"). Names are
// absolute; trailing dots are optional.
func SRV(name string, priority, weight, port uint16, target string) *miekg.SRV {
	return &miekg.SRV{Hdr: header(name, miekg.TypeSRV), Priority: priority, Weight: weight, Port: port, Target: miekg.Fqdn(target)}
}

// CNAME returns a CNAME record making name an alias of target. Names are
// absolute; trailing dots are optional.
func CNAME(name, target string) *miekg.CNAME {
	return &miekg.CNAME{Hdr: header(name, miekg.TypeCNAME), Target: miekg.Fqdn(target)}
}

func header(name string, rrtype uint16) miekg.RR_Header {
	return miekg.RR_Header{Name: miekg.Fqdn(name), Rrtype: rrtype, Class: miekg.ClassINET, Ttl: DefaultTTL}
}

// Zone is the authoritative data of one DNS zone: its origin, an SOA record
// and the RRsets added to it. Owner names are stored in lower case, so
// lookups are case-insensitive. Zones have no wildcards and no delegations.
//
// A Zone is safe for concurrent use: servers read it while it may still be
// changed. A zone signed with Sign is re-signed (with the same keys) by
// every later Add, so it never serves unsigned data.
type Zone struct {
	origin string // canonical: lower case, fully qualified

	mu    sync.RWMutex
	nodes map[string]*node // by canonical owner name
	keys  *zoneKeys        // non-nil once Sign has run
}

// node is the data at one owner name.
type node struct {
	rrsets map[uint16][]miekg.RR     // by type; never RRSIG
	sigs   map[uint16][]*miekg.RRSIG // by type covered
}

// NewZone returns a zone for origin (e.g. "contoso.com") holding an SOA
// record (primary ns1.<origin>, negative-caching TTL 300) and rrs. It fails
// with a *ZoneError when origin is not a domain name or when Add would.
func NewZone(origin string, rrs ...miekg.RR) (*Zone, error) {
	if _, ok := miekg.IsDomainName(origin); !ok || origin == "" {
		return nil, &ZoneError{Origin: origin, Err: fmt.Errorf("%q is not a domain name", origin)}
	}
	z := &Zone{origin: miekg.CanonicalName(origin), nodes: make(map[string]*node)}
	soa := &miekg.SOA{
		Hdr:     header(z.origin, miekg.TypeSOA),
		Ns:      "ns1." + z.origin,
		Mbox:    "hostmaster." + z.origin,
		Serial:  1,
		Refresh: 7200,
		Retry:   3600,
		Expire:  1209600,
		Minttl:  300,
	}
	z.node(z.origin).rrsets[miekg.TypeSOA] = []miekg.RR{soa}
	if err := z.Add(rrs...); err != nil {
		return nil, err
	}
	return z, nil
}

// ParseZone returns a zone for origin holding the records in text, in
// master-file format (RFC 1035 section 5): relative names are relative to
// origin, "@" is origin, $ORIGIN and $TTL work, $INCLUDE does not. A SOA
// record in text replaces the default one. Errors are *ZoneError values
// wrapping a *miekg/dns.ParseError that gives the line.
func ParseZone(origin, text string) (*Zone, error) {
	z, err := NewZone(origin)
	if err != nil {
		return nil, err
	}
	zp := miekg.NewZoneParser(strings.NewReader(text), z.origin, "")
	zp.SetDefaultTTL(DefaultTTL)
	var rrs []miekg.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, &ZoneError{Origin: trimDot(z.origin), Err: err}
	}
	if err := z.Add(rrs...); err != nil {
		return nil, err
	}
	return z, nil
}

// Origin returns the zone's origin, fully qualified and in lower case
// ("contoso.com.").
func (z *Zone) Origin() string { return z.origin }

// Add adds records to the zone. Records are copied; owner names are
// lowered. A record already present is ignored; an SOA replaces the SOA.
// RRSIG records are kept as signatures of the RRset they cover (so a zone
// can serve a copy of another zone's signed data); DNSKEY and NSEC records
// are plain data.
//
// Add fails with a *ZoneError, and adds nothing, when a record's owner is
// outside the zone, its class is not IN, its type cannot be zone data
// (OPT, TSIG, ...), or it would put a CNAME beside other data. When the zone
// was signed with Sign, Add re-signs it and fails if that fails.
func (z *Zone) Add(rrs ...miekg.RR) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	batch := make([]miekg.RR, 0, len(rrs))
	types := make(map[string]map[uint16]bool) // types per owner after the batch
	for _, rr := range rrs {
		rr = miekg.Copy(rr)
		h := rr.Header()
		h.Name = miekg.CanonicalName(h.Name)
		if err := z.check(rr, types); err != nil {
			return &ZoneError{Origin: trimDot(z.origin), Err: err}
		}
		batch = append(batch, rr)
	}
	for _, rr := range batch {
		z.insert(rr)
	}
	if z.keys != nil && len(batch) > 0 {
		if err := z.signLocked(); err != nil {
			return &ZoneError{Origin: trimDot(z.origin), Err: err}
		}
	}
	return nil
}

// check decides whether rr may join the zone; types accumulates the types
// each owner will hold, so conflicts inside one batch are found too.
func (z *Zone) check(rr miekg.RR, types map[string]map[uint16]bool) error {
	h := rr.Header()
	if !miekg.IsSubDomain(z.origin, h.Name) {
		return fmt.Errorf("%s %s is outside the zone", h.Name, miekg.Type(h.Rrtype))
	}
	if h.Class != miekg.ClassINET {
		return fmt.Errorf("%s %s has class %s, want IN", h.Name, miekg.Type(h.Rrtype), miekg.Class(h.Class))
	}
	switch h.Rrtype {
	case miekg.TypeOPT, miekg.TypeTSIG, miekg.TypeSIG, miekg.TypeTKEY, miekg.TypeIXFR, miekg.TypeAXFR, miekg.TypeANY, miekg.TypeNone:
		return fmt.Errorf("%s %s cannot be zone data", h.Name, miekg.Type(h.Rrtype))
	case miekg.TypeRRSIG, miekg.TypeNSEC, miekg.TypeDNSKEY:
		return nil // DNSSEC data may sit beside a CNAME
	}
	if types[h.Name] == nil {
		types[h.Name] = make(map[uint16]bool)
		if n := z.nodes[h.Name]; n != nil {
			for t := range n.rrsets {
				types[h.Name][t] = true
			}
		}
	}
	have := types[h.Name]
	have[h.Rrtype] = true
	for t := range have {
		if t != miekg.TypeNSEC && t != miekg.TypeDNSKEY && (t == miekg.TypeCNAME) != (h.Rrtype == miekg.TypeCNAME) {
			return fmt.Errorf("%s would have a CNAME and other data (%s)", h.Name, miekg.Type(t))
		}
	}
	return nil
}

func (z *Zone) node(name string) *node {
	n := z.nodes[name]
	if n == nil {
		n = &node{rrsets: make(map[uint16][]miekg.RR), sigs: make(map[uint16][]*miekg.RRSIG)}
		z.nodes[name] = n
	}
	return n
}

func (z *Zone) insert(rr miekg.RR) {
	h := rr.Header()
	n := z.node(h.Name)
	switch rr := rr.(type) {
	case *miekg.SOA:
		n.rrsets[miekg.TypeSOA] = []miekg.RR{rr}
		return
	case *miekg.RRSIG:
		for _, s := range n.sigs[rr.TypeCovered] {
			if miekg.IsDuplicate(s, rr) {
				return
			}
		}
		n.sigs[rr.TypeCovered] = append(n.sigs[rr.TypeCovered], rr)
		return
	}
	for _, old := range n.rrsets[h.Rrtype] {
		if miekg.IsDuplicate(old, rr) {
			return
		}
	}
	n.rrsets[h.Rrtype] = append(n.rrsets[h.Rrtype], rr)
}

// Remove deletes the RRset of type rrtype at name (absolute, any case,
// trailing dot optional) with its signatures, and reports whether there was
// one. The SOA cannot be removed. A signed zone is re-signed.
func (z *Zone) Remove(name string, rrtype uint16) (bool, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	n := z.nodes[miekg.CanonicalName(name)]
	if n == nil || len(n.rrsets[rrtype]) == 0 || rrtype == miekg.TypeSOA {
		return false, nil
	}
	delete(n.rrsets, rrtype)
	delete(n.sigs, rrtype)
	if z.keys != nil {
		if err := z.signLocked(); err != nil {
			return true, &ZoneError{Origin: trimDot(z.origin), Err: err}
		}
	}
	return true, nil
}

// RRset returns copies of the records of type rrtype at name (absolute, any
// case, trailing dot optional), or nil when there are none. It never
// returns RRSIGs; see Records.
func (z *Zone) RRset(name string, rrtype uint16) []miekg.RR {
	z.mu.RLock()
	defer z.mu.RUnlock()
	n := z.nodes[miekg.CanonicalName(name)]
	if n == nil {
		return nil
	}
	return copyRRs(n.rrsets[rrtype])
}

// Records returns copies of every record in the zone, signatures included,
// in canonical order: by owner name (RFC 4034 section 6.1), then type, each
// RRSIG after the RRset it covers.
func (z *Zone) Records() []miekg.RR {
	z.mu.RLock()
	defer z.mu.RUnlock()
	var out []miekg.RR
	for _, name := range z.sortedNames() {
		n := z.nodes[name]
		for _, t := range sortedTypes(n.rrsets) {
			out = append(out, copyRRs(n.rrsets[t])...)
			for _, s := range n.sigs[t] {
				out = append(out, miekg.Copy(s))
			}
		}
	}
	return out
}

// String returns the zone in master-file format, one record per line, in
// the order of Records.
func (z *Zone) String() string {
	var b strings.Builder
	for _, rr := range z.Records() {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// sortedNames returns the owner names holding data in canonical order.
func (z *Zone) sortedNames() []string {
	names := make([]string, 0, len(z.nodes))
	for name, n := range z.nodes {
		if len(n.rrsets) > 0 {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, canonicalCompare)
	return names
}

func sortedTypes[V any](m map[uint16]V) []uint16 {
	types := make([]uint16, 0, len(m))
	for t := range m {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

func copyRRs(rrs []miekg.RR) []miekg.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]miekg.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = miekg.Copy(rr)
	}
	return out
}

// canonicalCompare orders names as RFC 4034 section 6.1 does: label by
// label from the root, each label compared as lower-case bytes. (Escaped
// characters compare by their text form, which is exact for the
// letters-digits-hyphen names a lab uses.)
func canonicalCompare(a, b string) int {
	la := miekg.SplitDomainName(strings.ToLower(a))
	lb := miekg.SplitDomainName(strings.ToLower(b))
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// answer fills m, a reply to a query for (qname, qtype) in this zone, as an
// authoritative server does: the RRset, or a CNAME chain followed inside
// the zone, or NXDOMAIN/NODATA with the SOA in the authority section. With
// do (the query's DNSSEC OK bit) every RRset comes with its RRSIGs and a
// negative answer with the NSEC record that proves it.
func (z *Zone) answer(m *miekg.Msg, qname string, qtype uint16, do bool) {
	z.mu.RLock()
	defer z.mu.RUnlock()
	name := miekg.CanonicalName(qname)
	for range maxChain {
		n := z.nodes[name]
		if n == nil || len(n.rrsets) == 0 {
			if !z.hasDescendant(name) {
				m.Rcode = miekg.RcodeNameError
			}
			z.negative(m, name, do)
			return
		}
		if qtype == miekg.TypeRRSIG && len(n.sigs) > 0 {
			for _, t := range sortedTypes(n.sigs) {
				for _, s := range n.sigs[t] {
					m.Answer = append(m.Answer, miekg.Copy(s))
				}
			}
			return
		}
		if rrs := n.rrsets[qtype]; len(rrs) > 0 {
			m.Answer = z.appendRRset(m.Answer, n, qtype, do)
			return
		}
		cname, ok := firstOf[*miekg.CNAME](n.rrsets[miekg.TypeCNAME])
		if !ok {
			z.negative(m, name, do)
			return
		}
		m.Answer = z.appendRRset(m.Answer, n, miekg.TypeCNAME, do)
		target := miekg.CanonicalName(cname.Target)
		if !miekg.IsSubDomain(z.origin, target) {
			return // the client follows the alias out of the zone
		}
		name = target
	}
	// A chain longer than maxChain (or a loop): answer with what we have,
	// as a client would give up on it anyway.
}

// appendRRset appends the rrset of type t at n, and with do its RRSIGs.
func (z *Zone) appendRRset(out []miekg.RR, n *node, t uint16, do bool) []miekg.RR {
	out = append(out, copyRRs(n.rrsets[t])...)
	if do {
		for _, s := range n.sigs[t] {
			out = append(out, miekg.Copy(s))
		}
	}
	return out
}

// negative adds the SOA (with the negative-caching TTL) to the authority
// section and, with do, the SOA's RRSIGs and the NSEC proving that name
// (or its type) does not exist.
func (z *Zone) negative(m *miekg.Msg, name string, do bool) {
	apex := z.nodes[z.origin]
	if soa, ok := firstOf[*miekg.SOA](apex.rrsets[miekg.TypeSOA]); ok {
		soa = miekg.Copy(soa).(*miekg.SOA)
		soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
		m.Ns = append(m.Ns, soa)
		if do {
			for _, s := range apex.sigs[miekg.TypeSOA] {
				m.Ns = append(m.Ns, miekg.Copy(s))
			}
		}
	}
	if !do {
		return
	}
	owner := name
	if n := z.nodes[name]; n == nil || len(n.rrsets[miekg.TypeNSEC]) == 0 {
		owner = z.predecessor(name)
	}
	if n := z.nodes[owner]; n != nil && len(n.rrsets[miekg.TypeNSEC]) > 0 {
		m.Ns = z.appendRRset(m.Ns, n, miekg.TypeNSEC, true)
	}
}

// predecessor returns the greatest owner name with an NSEC record that
// sorts before name, or "" when there is none.
func (z *Zone) predecessor(name string) string {
	best := ""
	for owner, n := range z.nodes {
		if len(n.rrsets[miekg.TypeNSEC]) == 0 || canonicalCompare(owner, name) >= 0 {
			continue
		}
		if best == "" || canonicalCompare(owner, best) > 0 {
			best = owner
		}
	}
	return best
}

// hasDescendant reports whether a name below name holds data, which makes
// name an empty non-terminal (NODATA, not NXDOMAIN).
func (z *Zone) hasDescendant(name string) bool {
	for owner, n := range z.nodes {
		if len(n.rrsets) > 0 && owner != name && miekg.IsSubDomain(name, owner) {
			return true
		}
	}
	return false
}

// firstOf returns the first record of rrs with type T.
func firstOf[T miekg.RR](rrs []miekg.RR) (T, bool) {
	for _, rr := range rrs {
		if t, ok := rr.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}
