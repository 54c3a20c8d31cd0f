package eavesdrop

import (
	"bytes"
	"crypto/tls"
	"net/netip"
	"slices"
)

// Report is what the eavesdropper captured. It shares nothing with the
// Eavesdropper.
type Report struct {
	// Frames counts every frame observed; Segments the IPv4 TCP segments
	// among them; Malformed the frames that failed to decode.
	Frames, Segments, Malformed int
	// Streams counts TCP stream directions seen: a connection seen both
	// ways counts two.
	Streams int
	// PayloadBytes counts captured TCP payload bytes, each sequence number
	// once (retransmissions and overlaps are not counted again).
	PayloadBytes int
	// Found lists the canaries that appear in the captured payload of some
	// stream, in the order they were asked for. Empty canaries are never
	// found.
	Found []string
	// TLS describes each connection whose payload begins with a TLS
	// handshake record, in the order the connections were first seen.
	TLS []TLSStreamInfo
}

// TLSStreamInfo is what a passive observer learns from one TLS connection.
// Names come from crypto/tls (tls.VersionName, tls.CipherSuiteName), e.g.
// "TLS 1.3" and "TLS_AES_128_GCM_SHA256".
type TLSStreamInfo struct {
	// Client sent the ClientHello (failing that, the SYN); Server is the
	// other end.
	Client, Server netip.AddrPort
	// RecordVersions are the distinct record-layer versions seen in either
	// direction, lowest first. TLS 1.3 records claim "TLS 1.2" (and
	// a ClientHello often "TLS 1.0"), so these do not say what was
	// negotiated.
	RecordVersions []string
	// ClientHello reports whether a ClientHello was seen; SNI is its
	// server_name, empty when absent.
	ClientHello bool
	SNI         string
	// HelloRetryRequest reports whether the server asked the client to
	// retry (TLS 1.3).
	HelloRetryRequest bool
	// ServerHello reports whether a ServerHello was seen; Version and
	// CipherSuite are what it negotiated, empty without one.
	ServerHello bool
	Version     string
	CipherSuite string
	// ClientAlerts and ServerAlerts are the plaintext alerts each side sent
	// (e.g. "tls: bad certificate"), in order. Encrypted alerts are not
	// visible.
	ClientAlerts, ServerAlerts []string
}

// Report summarises everything observed so far. It may be called at any
// time, including while frames are still arriving; it holds the
// eavesdropper's lock while it searches and parses the captured bytes.
func (e *Eavesdropper) Report(canaries []string) Report {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := Report{Frames: e.frames, Segments: e.segments, Malformed: e.malformed}
	found := make([]bool, len(canaries))
	for _, c := range e.order {
		for _, s := range c.dirs {
			if s == nil {
				continue
			}
			r.Streams++
			r.PayloadBytes += s.capturedBytes()
			for _, run := range s.runs() {
				for i, canary := range canaries {
					if !found[i] && canary != "" && bytes.Contains(run, []byte(canary)) {
						found[i] = true
					}
				}
			}
		}
		if info, ok := c.tlsInfo(); ok {
			r.TLS = append(r.TLS, info)
		}
	}
	for i, canary := range canaries {
		if found[i] && !slices.Contains(r.Found, canary) {
			r.Found = append(r.Found, canary)
		}
	}
	return r
}

// tlsInfo parses the connection's captured bytes as TLS.
func (c *conn) tlsInfo() (TLSStreamInfo, bool) {
	var recs [2][]record
	isTLS := false
	for dir, s := range c.dirs {
		if s != nil {
			var ok bool
			recs[dir], ok = splitRecords(s.data)
			isTLS = isTLS || ok
		}
	}
	if !isTLS {
		return TLSStreamInfo{}, false
	}
	dirs := [2]dirTLS{analyzeDir(recs[0], false), analyzeDir(recs[1], false)}
	if dirs[0].negotiatesTLS13() || dirs[1].negotiatesTLS13() {
		dirs = [2]dirTLS{analyzeDir(recs[0], true), analyzeDir(recs[1], true)}
	}

	client := 0
	switch {
	case len(dirs[0].clientHellos) > 0:
	case len(dirs[1].clientHellos) > 0:
		client = 1
	case c.synFrom >= 0:
		client = c.synFrom
	}
	cd, sd := &dirs[client], &dirs[1-client]
	info := TLSStreamInfo{
		Client:       c.endpoint(client),
		Server:       c.endpoint(1 - client),
		ClientAlerts: alertNames(cd.alerts),
		ServerAlerts: alertNames(sd.alerts),
	}
	versions := slices.Concat(cd.versions, sd.versions)
	slices.Sort(versions)
	for _, v := range slices.Compact(versions) {
		info.RecordVersions = append(info.RecordVersions, tls.VersionName(v))
	}
	if len(cd.clientHellos) > 0 {
		info.ClientHello = true
		info.SNI = cd.clientHellos[0].sni
	}
	for _, sh := range sd.serverHellos {
		if sh.retry {
			info.HelloRetryRequest = true
			continue
		}
		info.ServerHello = true
		info.Version = tls.VersionName(sh.version)
		info.CipherSuite = tls.CipherSuiteName(sh.cipherSuite)
	}
	return info, true
}

func alertNames(descs []uint8) []string {
	var out []string
	for _, d := range descs {
		out = append(out, tls.AlertError(d).Error())
	}
	return out
}
