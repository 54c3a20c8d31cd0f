package eavesdrop

import (
	"bytes"
	"crypto/tls"
	"net/netip"
	"slices"

	"github.com/tlslab/tlslab/internal/tlswire"
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
	// Conns describes every TCP connection seen, in the order first seen:
	// its endpoints, how many of its frames the tap captured, and whether
	// everything it carried was TLS records.
	Conns []ConnInfo
}

// ConnInfo is what the tap captured of one TCP connection.
type ConnInfo struct {
	// Client opened the connection: it sent the initial SYN or, when the
	// SYN was not seen, the ClientHello; Server is the other end. When
	// neither was seen, Client is the lower endpoint.
	Client, Server netip.AddrPort
	// Frames counts the connection's TCP segments the tap saw, both
	// directions, retransmissions included.
	Frames int
	// PayloadBytes counts the captured payload, both directions, each
	// sequence number once.
	PayloadBytes int
	// OnlyTLS reports that payload was captured and all of it is TLS
	// records: the client's bytes begin with a handshake record, every
	// captured byte of both directions lies in a record (the last one may
	// be cut off where the capture ends), no bytes wait behind a gap and
	// none were beyond Config.MaxStreamBytes. Only then does the tap know
	// that nothing but TLS crossed the wire.
	OnlyTLS bool
	// TLS is what the connection's handshake revealed, when its payload
	// begins with a TLS handshake record; nil otherwise. It equals the
	// connection's entry in Report.TLS.
	TLS *TLSStreamInfo
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
			r.PayloadBytes += s.CapturedBytes()
			for _, run := range s.Runs() {
				for i, canary := range canaries {
					if !found[i] && canary != "" && bytes.Contains(run, []byte(canary)) {
						found[i] = true
					}
				}
			}
		}
		ci := c.info()
		if info, ok := c.tlsInfo(); ok {
			r.TLS = append(r.TLS, info)
			ci.TLS = &info
			ci.Client, ci.Server = info.Client, info.Server
		}
		r.Conns = append(r.Conns, ci)
	}
	for i, canary := range canaries {
		if found[i] && !slices.Contains(r.Found, canary) {
			r.Found = append(r.Found, canary)
		}
	}
	return r
}

// info describes the connection apart from its TLS handshake: endpoints
// (by the SYN), frames, payload, and whether all of it is TLS records.
func (c *conn) info() ConnInfo {
	client := 0
	if c.synFrom >= 0 {
		client = c.synFrom
	}
	ci := ConnInfo{Client: c.endpoint(client), Server: c.endpoint(1 - client), Frames: c.frames}
	onlyTLS, any := true, false
	for dir, s := range c.dirs {
		if s == nil {
			continue
		}
		ci.PayloadBytes += s.CapturedBytes()
		if s.Delivered() == 0 && !s.Holding() {
			continue
		}
		any = true
		if s.Holding() || s.Delivered() != len(s.Data()) || !allRecords(s.Data()) {
			onlyTLS = false
		}
		if dir == client && !tlswire.StartsWithHandshake(s.Data()) {
			onlyTLS = false
		}
	}
	if c.dirs[client] == nil || c.dirs[client].Delivered() == 0 {
		onlyTLS = false // the client sent nothing: no ClientHello
	}
	ci.OnlyTLS = any && onlyTLS
	return ci
}

// tlsInfo parses the connection's captured bytes as TLS.
func (c *conn) tlsInfo() (TLSStreamInfo, bool) {
	var data [2][]byte
	isTLS := false
	for dir, s := range c.dirs {
		if s != nil {
			data[dir] = s.Data()
			isTLS = isTLS || tlswire.StartsWithHandshake(data[dir])
		}
	}
	if !isTLS {
		return TLSStreamInfo{}, false
	}
	dirs := [2]dirTLS{analyzeDir(data[0], false), analyzeDir(data[1], false)}
	if dirs[0].negotiatesTLS13() || dirs[1].negotiatesTLS13() {
		dirs = [2]dirTLS{analyzeDir(data[0], true), analyzeDir(data[1], true)}
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
		info.SNI = cd.clientHellos[0].ServerName
	}
	for _, sh := range sd.serverHellos {
		if sh.IsHelloRetryRequest() {
			info.HelloRetryRequest = true
			continue
		}
		info.ServerHello = true
		info.Version = tls.VersionName(sh.Version)
		info.CipherSuite = tls.CipherSuiteName(sh.CipherSuite)
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
