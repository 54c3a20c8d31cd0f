package dns

import (
	"crypto"
	"errors"
	"slices"
	"time"

	miekg "github.com/miekg/dns"
)

// SignConfig says how Zone.Sign signs.
type SignConfig struct {
	// Inception is when the signatures start to be valid. Zero means one
	// hour before Now.
	Inception time.Time
	// Expiration is when the signatures stop being valid. Zero means 30
	// days after Now.
	Expiration time.Time
	// Now is the clock the defaults above are computed from; nil means
	// time.Now (virtual inside a testing/synctest bubble). Give it the
	// World's clock (World.Now) when the World has its own Clock.
	Now func() time.Time
}

// zoneKeys are a signed zone's keys and signing window.
type zoneKeys struct {
	ksk, zsk         *miekg.DNSKEY
	kskPriv, zskPriv crypto.Signer
	inception        uint32
	expiration       uint32
}

// DNSSEC key parameters: ECDSA P-256 with SHA-256 (algorithm 13, RFC 6605).
const (
	keyAlgorithm = miekg.ECDSAP256SHA256
	keyBits      = 256
	keyTTL       = DefaultTTL
)

// Sign makes the zone a signed zone: it generates a key-signing key (flags
// 257, signs the DNSKEY RRset) and a zone-signing key (flags 256, signs
// everything else), both ECDSA P-256 (algorithm 13), publishes them as the
// apex DNSKEY RRset, builds the NSEC chain and signs every RRset. Any
// DNSKEY, NSEC and RRSIG records already in the zone are replaced.
//
// Keys come from crypto/rand (miekg/dns generates them there). Calling Sign
// again keeps the keys and re-signs with the new validity window; Add
// re-signs on its own. Servers serve the signatures to queries that set the
// DNSSEC OK bit. Errors are *ZoneError values.
func (z *Zone) Sign(cfg SignConfig) error {
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	inception, expiration := cfg.Inception, cfg.Expiration
	if inception.IsZero() {
		inception = now().Add(-time.Hour)
	}
	if expiration.IsZero() {
		expiration = now().Add(30 * 24 * time.Hour)
	}
	if !expiration.After(inception) {
		return &ZoneError{Origin: trimDot(z.origin), Err: errors.New("signature expiration " + expiration.UTC().Format(time.RFC3339) + " is not after inception " + inception.UTC().Format(time.RFC3339))}
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.keys == nil {
		k := &zoneKeys{}
		var err error
		if k.ksk, k.kskPriv, err = newKey(z.origin, 257); err == nil {
			k.zsk, k.zskPriv, err = newKey(z.origin, 256)
		}
		if err != nil {
			return &ZoneError{Origin: trimDot(z.origin), Err: err}
		}
		z.keys = k
	}
	z.keys.inception = uint32(inception.Unix())
	z.keys.expiration = uint32(expiration.Unix())
	if err := z.signLocked(); err != nil {
		return &ZoneError{Origin: trimDot(z.origin), Err: err}
	}
	return nil
}

func newKey(origin string, flags uint16) (*miekg.DNSKEY, crypto.Signer, error) {
	k := &miekg.DNSKEY{
		Hdr:       miekg.RR_Header{Name: origin, Rrtype: miekg.TypeDNSKEY, Class: miekg.ClassINET, Ttl: keyTTL},
		Flags:     flags,
		Protocol:  3,
		Algorithm: keyAlgorithm,
	}
	priv, err := k.Generate(keyBits)
	if err != nil {
		return nil, nil, err
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("generated DNSSEC key is not a crypto.Signer")
	}
	return k, signer, nil
}

// signLocked replaces the zone's DNSSEC records with a fresh DNSKEY RRset,
// NSEC chain and signatures. z.mu is held for writing.
func (z *Zone) signLocked() error {
	k := z.keys
	for _, n := range z.nodes {
		delete(n.rrsets, miekg.TypeDNSKEY)
		delete(n.rrsets, miekg.TypeNSEC)
		clear(n.sigs)
	}
	apex := z.node(z.origin)
	apex.rrsets[miekg.TypeDNSKEY] = []miekg.RR{miekg.Copy(k.ksk), miekg.Copy(k.zsk)}

	soa, _ := firstOf[*miekg.SOA](apex.rrsets[miekg.TypeSOA])
	names := z.sortedNames()
	for i, name := range names {
		n := z.nodes[name]
		next := names[(i+1)%len(names)]
		types := append(sortedTypes(n.rrsets), miekg.TypeNSEC, miekg.TypeRRSIG)
		slices.Sort(types)
		n.rrsets[miekg.TypeNSEC] = []miekg.RR{&miekg.NSEC{
			Hdr:        miekg.RR_Header{Name: name, Rrtype: miekg.TypeNSEC, Class: miekg.ClassINET, Ttl: soa.Minttl},
			NextDomain: next,
			TypeBitMap: slices.Compact(types),
		}}
	}
	for _, name := range names {
		n := z.nodes[name]
		for t, rrs := range n.rrsets {
			key, priv := k.zsk, k.zskPriv
			if t == miekg.TypeDNSKEY {
				key, priv = k.ksk, k.kskPriv
			}
			sig := &miekg.RRSIG{
				Hdr:        miekg.RR_Header{Ttl: rrs[0].Header().Ttl},
				Algorithm:  key.Algorithm,
				Expiration: k.expiration,
				Inception:  k.inception,
				KeyTag:     key.KeyTag(),
				SignerName: z.origin,
			}
			if err := sig.Sign(priv, rrs); err != nil {
				return err
			}
			n.sigs[t] = []*miekg.RRSIG{sig}
		}
	}
	return nil
}

// Signed reports whether Sign has run on the zone.
func (z *Zone) Signed() bool {
	z.mu.RLock()
	defer z.mu.RUnlock()
	return z.keys != nil
}

// KSK returns a copy of the zone's key-signing key, the usual trust anchor
// (ResolverConfig.TrustAnchors), or nil when the zone is not signed.
func (z *Zone) KSK() *miekg.DNSKEY {
	z.mu.RLock()
	defer z.mu.RUnlock()
	if z.keys == nil {
		return nil
	}
	return miekg.Copy(z.keys.ksk).(*miekg.DNSKEY)
}

// DS returns the DS record (SHA-256 digest) of the zone's key-signing key,
// what a parent zone would publish and a trust anchor a resolver can be
// given instead of the KSK, or nil when the zone is not signed.
func (z *Zone) DS() *miekg.DS {
	z.mu.RLock()
	defer z.mu.RUnlock()
	if z.keys == nil {
		return nil
	}
	ds := z.keys.ksk.ToDS(miekg.SHA256)
	ds.Hdr.Ttl = keyTTL
	return ds
}
