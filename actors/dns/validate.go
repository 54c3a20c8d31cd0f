package dns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	miekg "github.com/miekg/dns"
)

// trustedKeys is a zone's DNSKEY set, validated against its trust anchor.
type trustedKeys struct {
	keys    []*miekg.DNSKEY
	expires time.Time
}

// rrKey names an RRset.
type rrKey struct {
	name string // canonical
	t    uint16
}

// rrsets groups rrs into RRsets (in order of first appearance) and their
// RRSIGs by the RRset they cover.
func rrsets(rrs []miekg.RR) (order []rrKey, sets map[rrKey][]miekg.RR, sigs map[rrKey][]*miekg.RRSIG) {
	sets = make(map[rrKey][]miekg.RR)
	sigs = make(map[rrKey][]*miekg.RRSIG)
	for _, rr := range rrs {
		h := rr.Header()
		name := miekg.CanonicalName(h.Name)
		if s, ok := rr.(*miekg.RRSIG); ok {
			k := rrKey{name, s.TypeCovered}
			sigs[k] = append(sigs[k], s)
			continue
		}
		k := rrKey{name, h.Rrtype}
		if sets[k] == nil {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	return order, sets, sigs
}

// anchorZone returns the longest anchored zone containing name, or "".
func (r *Resolver) anchorZone(name string) string {
	if len(r.anchors) == 0 {
		return ""
	}
	name = miekg.CanonicalName(name)
	for off, end := 0, false; !end; off, end = miekg.NextLabel(name, off) {
		if r.anchors[name[off:]] != nil {
			return name[off:]
		}
	}
	if r.anchors["."] != nil {
		return "."
	}
	return ""
}

// validate checks a response to (qname, qtype) against the trust anchors:
// every answer RRset in an anchored zone must be signed by the zone's
// trusted DNSKEY set, and a negative answer for a name in an anchored zone
// must come with a signed NSEC record proving it. It returns a
// *ValidationError, or a *LookupError when the DNSKEY set could not be
// fetched.
func (r *Resolver) validate(ctx context.Context, resp *miekg.Msg, qname string, qtype uint16) error {
	if len(r.anchors) == 0 {
		return nil
	}
	order, sets, sigs := rrsets(resp.Answer)
	for _, k := range order {
		zone := r.anchorZone(k.name)
		if zone == "" {
			continue
		}
		if err := r.verifyRRset(ctx, zone, sets[k], sigs[k]); err != nil {
			return validationError(k.name, k.t, err)
		}
	}
	rrs, final := chase(resp.Answer, qname, qtype)
	if len(rrs) > 0 || (resp.Rcode == miekg.RcodeSuccess && final != qname) {
		return nil // a positive answer, or an alias to be followed
	}
	zone := r.anchorZone(final)
	if zone == "" {
		return nil
	}
	if err := r.verifyDenial(ctx, zone, resp, final, qtype); err != nil {
		return validationError(final, qtype, err)
	}
	return nil
}

// validationError wraps err for the RRset (name, t), except a transport
// failure while fetching keys, which is reported as such.
func validationError(name string, t uint16, err error) error {
	var le *LookupError
	if errors.As(err, &le) {
		return le
	}
	return &ValidationError{Name: trimDot(name), Type: t, Err: err}
}

// verifyRRset checks that set carries a signature by zone that verifies with
// the zone's trusted keys at the resolver's clock.
func (r *Resolver) verifyRRset(ctx context.Context, zone string, set []miekg.RR, sigs []*miekg.RRSIG) error {
	sigs = signedBy(sigs, zone)
	if len(sigs) == 0 {
		return ErrNoRRSIG
	}
	keys, err := r.trustedKeys(ctx, zone)
	if err != nil {
		return err
	}
	return verifyWith(keys, set, sigs, r.now(), zone)
}

func signedBy(sigs []*miekg.RRSIG, zone string) []*miekg.RRSIG {
	var out []*miekg.RRSIG
	for _, s := range sigs {
		if miekg.CanonicalName(s.SignerName) == zone {
			out = append(out, s)
		}
	}
	return out
}

// verifyWith succeeds when one of sigs verifies set with one of keys and
// is valid at now.
func verifyWith(keys []*miekg.DNSKEY, set []miekg.RR, sigs []*miekg.RRSIG, now time.Time, zone string) error {
	var timeErr error
	known := false
	for _, s := range sigs {
		for _, k := range keys {
			if k.KeyTag() != s.KeyTag || k.Algorithm != s.Algorithm {
				continue
			}
			known = true
			if s.Verify(k, set) != nil {
				continue
			}
			if !s.ValidityPeriod(now) {
				timeErr = fmt.Errorf("%w: valid %s to %s, now %s", ErrSignatureTime,
					sigTime(s.Inception), sigTime(s.Expiration), now.UTC().Format(time.RFC3339))
				continue
			}
			return nil
		}
	}
	switch {
	case timeErr != nil:
		return timeErr
	case !known:
		return fmt.Errorf("%w: signed by key tag %d, which is not in the trusted DNSKEY set of %s", ErrBadSignature, sigs[0].KeyTag, trimDot(zone))
	}
	return ErrBadSignature
}

// sigTime renders an RRSIG timestamp (seconds since 1970, modulo 2^32:
// exact until 2106).
func sigTime(t uint32) string { return time.Unix(int64(t), 0).UTC().Format(time.RFC3339) }

// trustedKeys returns zone's DNSKEY set once it is proven: fetched with the
// DO bit, containing a key that matches a trust anchor, and signed by that
// key. Proven sets are kept until their TTL runs out on the resolver's
// clock.
func (r *Resolver) trustedKeys(ctx context.Context, zone string) ([]*miekg.DNSKEY, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.keys[zone]
	r.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.keys, nil
	}
	q := new(miekg.Msg)
	q.SetQuestion(zone, miekg.TypeDNSKEY)
	q.SetEdns0(validatingUDPSize, true)
	resp, err := r.exchange(ctx, q)
	if err != nil {
		return nil, &LookupError{Name: trimDot(zone), Err: err}
	}
	untrusted := func(format string, args ...any) error {
		return fmt.Errorf("%w for %s: "+format, append([]any{ErrNoTrustedKey, trimDot(zone)}, args...)...)
	}
	var keys []*miekg.DNSKEY
	var set []miekg.RR
	var sigs []*miekg.RRSIG
	ttl := uint32(DefaultTTL)
	for _, rr := range resp.Answer {
		if !strings.EqualFold(rr.Header().Name, zone) {
			continue
		}
		switch rr := rr.(type) {
		case *miekg.DNSKEY:
			keys = append(keys, rr)
			set = append(set, rr)
			ttl = min(ttl, rr.Hdr.Ttl)
		case *miekg.RRSIG:
			if rr.TypeCovered == miekg.TypeDNSKEY {
				sigs = append(sigs, rr)
			}
		}
	}
	if len(keys) == 0 {
		return nil, untrusted("the server returned no DNSKEY set")
	}
	var anchored []*miekg.DNSKEY
	for _, k := range keys {
		for _, a := range r.anchors[zone] {
			if matchesAnchor(k, a) {
				anchored = append(anchored, k)
				break
			}
		}
	}
	if len(anchored) == 0 {
		return nil, untrusted("no key in the DNSKEY set matches the trust anchor")
	}
	if sigs = signedBy(sigs, zone); len(sigs) == 0 {
		return nil, untrusted("the DNSKEY set has no RRSIG")
	}
	if err := verifyWith(anchored, set, sigs, now, zone); err != nil {
		return nil, fmt.Errorf("%w for %s: DNSKEY set: %w", ErrNoTrustedKey, trimDot(zone), err)
	}
	r.mu.Lock()
	r.keys[zone] = trustedKeys{keys: keys, expires: now.Add(time.Duration(ttl) * time.Second)}
	r.mu.Unlock()
	return keys, nil
}

// matchesAnchor reports whether k is the key anchor names: the same key,
// or the key a DS record digests.
func matchesAnchor(k *miekg.DNSKEY, anchor miekg.RR) bool {
	switch a := anchor.(type) {
	case *miekg.DNSKEY:
		return k.Flags == a.Flags && k.Protocol == a.Protocol && k.Algorithm == a.Algorithm && k.PublicKey == a.PublicKey
	case *miekg.DS:
		if k.KeyTag() != a.KeyTag || k.Algorithm != a.Algorithm {
			return false
		}
		ds := k.ToDS(a.DigestType)
		return ds != nil && strings.EqualFold(ds.Digest, a.Digest)
	}
	return false
}

// verifyDenial checks the authority section of a negative answer for name
// and qtype in zone: every NSEC RRset in it must be signed, and one must
// prove the answer. For NXDOMAIN that is an NSEC covering name (owner <
// name < next in canonical order); for NODATA an NSEC at name whose type
// bitmap has neither qtype nor CNAME, or, for an empty non-terminal, an NSEC
// covering name whose next name is below it. Zones served by Server have no
// wildcards, so no wildcard proof is required.
func (r *Resolver) verifyDenial(ctx context.Context, zone string, resp *miekg.Msg, name string, qtype uint16) error {
	order, sets, sigs := rrsets(resp.Ns)
	proven := false
	for _, k := range order {
		if k.t != miekg.TypeNSEC || r.anchorZone(k.name) != zone {
			continue
		}
		if err := r.verifyRRset(ctx, zone, sets[k], sigs[k]); err != nil {
			return fmt.Errorf("NSEC %s: %w", trimDot(k.name), err)
		}
		for _, rr := range sets[k] {
			if nsec, ok := rr.(*miekg.NSEC); ok && proves(nsec, name, qtype, resp.Rcode == miekg.RcodeNameError) {
				proven = true
			}
		}
	}
	if !proven {
		return ErrNoDenial
	}
	return nil
}

// proves reports whether nsec proves that name does not exist (nxdomain)
// or has no qtype records.
func proves(nsec *miekg.NSEC, name string, qtype uint16, nxdomain bool) bool {
	owner, next := nsec.Hdr.Name, nsec.NextDomain
	if !nxdomain && strings.EqualFold(owner, name) {
		for _, t := range nsec.TypeBitMap {
			if t == qtype || t == miekg.TypeCNAME {
				return false
			}
		}
		return true
	}
	if !covers(owner, next, name) {
		return false
	}
	if nxdomain {
		return true
	}
	// An empty non-terminal: the next name with data is below name.
	return !strings.EqualFold(next, name) && miekg.IsSubDomain(name, next)
}

// covers reports whether the NSEC span owner..next (exclusive) contains
// name; the last NSEC of a zone wraps around to the apex.
func covers(owner, next, name string) bool {
	if canonicalCompare(owner, next) < 0 {
		return canonicalCompare(owner, name) < 0 && canonicalCompare(name, next) < 0
	}
	return canonicalCompare(owner, name) < 0 || canonicalCompare(name, next) < 0
}
