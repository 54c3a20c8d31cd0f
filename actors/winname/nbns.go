package winname

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// NBNS (NetBIOS name service, RFC 1002 section 4.2) messages: only the part
// name resolution needs, a name query request and its positive response.
// gopacket has no NBNS layer and no maintained Go library encodes it, so it
// is written here and checked against what tshark decodes.

// NBNS header flags (the second 16-bit word: R, OPCODE, NM_FLAGS, RCODE).
const (
	NBNSFlagResponse  uint16 = 0x8000 // R: a response
	NBNSFlagAuthority uint16 = 0x0400 // AA: authoritative answer
	NBNSFlagTruncated uint16 = 0x0200 // TC
	NBNSFlagRecursion uint16 = 0x0100 // RD: recursion desired
	NBNSFlagAvailable uint16 = 0x0080 // RA: recursion available
	NBNSFlagBroadcast uint16 = 0x0010 // B: sent by broadcast
	nbnsOpcodeMask    uint16 = 0x7800
	nbnsRcodeMask     uint16 = 0x000f
)

// NBNS question and resource record types and class.
const (
	NBNSTypeNB     uint16 = 0x0020 // general name service resource record
	NBNSTypeNBSTAT uint16 = 0x0021 // node status
	NBNSClassIN    uint16 = 0x0001
)

// NetBIOS name suffixes (the 16th byte) a host registers.
const (
	SuffixWorkstation byte = 0x00 // the workstation service: host name lookups ask for it
	SuffixFileServer  byte = 0x20 // the file server service (\\NAME\share)
)

// DefaultNBNSTTL is the TTL a positive response carries: Windows' 300000
// seconds (3 days 11 hours).
const DefaultNBNSTTL = 300000

// NetBIOSName is a NetBIOS name: up to 15 characters, upper case, and a
// suffix byte naming the service. Scope is the NetBIOS scope ID, usually
// empty.
type NetBIOSName struct {
	Name   string
	Suffix byte
	Scope  string
}

// String is the name as tshark shows it: "FILESERV<20>".
func (n NetBIOSName) String() string {
	s := fmt.Sprintf("%s<%02x>", n.Name, n.Suffix)
	if n.Scope != "" {
		s += "." + n.Scope
	}
	return s
}

// NetBIOSNameFor returns the NetBIOS name Windows asks for when it resolves
// host with suffix, and false when host cannot be a NetBIOS name (it holds
// a dot, or is empty or longer than 15 characters): such names are never
// sent to NBT-NS.
func NetBIOSNameFor(host string, suffix byte) (NetBIOSName, bool) {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 15 || strings.ContainsAny(host, ".*") {
		return NetBIOSName{}, false
	}
	for i := 0; i < len(host); i++ {
		if host[i] < 0x21 || host[i] > 0x7e {
			return NetBIOSName{}, false
		}
	}
	return NetBIOSName{Name: strings.ToUpper(host), Suffix: suffix}, true
}

// NBNSQuestion is a question entry.
type NBNSQuestion struct {
	Name  NetBIOSName
	Type  uint16 // NBNSTypeNB
	Class uint16 // NBNSClassIN
}

// NBNSAnswer is an NB resource record: the addresses a name maps to. NBFlags
// are the flags of every address entry (G bit, ONT); 0 is a unique name of
// a B node.
type NBNSAnswer struct {
	Name    NetBIOSName
	Type    uint16 // NBNSTypeNB
	Class   uint16 // NBNSClassIN
	TTL     uint32 // seconds
	NBFlags uint16
	Addrs   []netip.Addr // IPv4
}

// NBNSPacket is an NBNS message with its question and answer sections (the
// authority and additional sections, unused by name queries, must be empty).
type NBNSPacket struct {
	ID        uint16
	Flags     uint16 // R, OPCODE, NM_FLAGS and RCODE, see NBNSFlag*
	Questions []NBNSQuestion
	Answers   []NBNSAnswer
}

// Response reports whether R is set.
func (p *NBNSPacket) Response() bool { return p.Flags&NBNSFlagResponse != 0 }

// Opcode is the OPCODE field (0: query).
func (p *NBNSPacket) Opcode() int { return int(p.Flags&nbnsOpcodeMask) >> 11 }

// Rcode is the RCODE field (0: no error).
func (p *NBNSPacket) Rcode() int { return int(p.Flags & nbnsRcodeMask) }

// NewNBNSQuery returns the broadcast name query request a B node sends for
// name: RD and B set, one NB/IN question.
func NewNBNSQuery(id uint16, name NetBIOSName) *NBNSPacket {
	return &NBNSPacket{
		ID:        id,
		Flags:     NBNSFlagRecursion | NBNSFlagBroadcast,
		Questions: []NBNSQuestion{{Name: name, Type: NBNSTypeNB, Class: NBNSClassIN}},
	}
}

// NewNBNSPositiveResponse returns the positive name query response to
// query (which must hold one question) mapping its name to addr: R and AA
// set, RD copied, no question section, one NB record with ttl.
func NewNBNSPositiveResponse(query *NBNSPacket, addr netip.Addr, ttl uint32) *NBNSPacket {
	q := query.Questions[0]
	return &NBNSPacket{
		ID:    query.ID,
		Flags: NBNSFlagResponse | NBNSFlagAuthority | query.Flags&NBNSFlagRecursion,
		Answers: []NBNSAnswer{{
			Name: q.Name, Type: NBNSTypeNB, Class: NBNSClassIN, TTL: ttl,
			Addrs: []netip.Addr{addr},
		}},
	}
}

// ErrNBNSMalformed is the cause of every ParseNBNS error.
var ErrNBNSMalformed = errors.New("malformed NBNS message")

// NBNSError reports an NBNS message that cannot be encoded or parsed.
type NBNSError struct {
	// Problem says what is wrong.
	Problem string
}

func (e *NBNSError) Error() string { return "winname: NBNS: " + e.Problem }

// Is makes errors.Is(err, ErrNBNSMalformed) true.
func (e *NBNSError) Is(target error) bool { return target == ErrNBNSMalformed }

// Marshal encodes p in wire format. It fails with an *NBNSError when a name
// is longer than 15 characters, an address is not IPv4 or a scope label is
// invalid.
func (p *NBNSPacket) Marshal() ([]byte, error) {
	b := make([]byte, 12, 12+50*(len(p.Questions)+len(p.Answers)))
	binary.BigEndian.PutUint16(b[0:], p.ID)
	binary.BigEndian.PutUint16(b[2:], p.Flags)
	binary.BigEndian.PutUint16(b[4:], uint16(len(p.Questions)))
	binary.BigEndian.PutUint16(b[6:], uint16(len(p.Answers)))
	var err error
	for _, q := range p.Questions {
		if b, err = appendNetBIOSName(b, q.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, q.Type)
		b = binary.BigEndian.AppendUint16(b, q.Class)
	}
	for _, a := range p.Answers {
		if b, err = appendNetBIOSName(b, a.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, a.Type)
		b = binary.BigEndian.AppendUint16(b, a.Class)
		b = binary.BigEndian.AppendUint32(b, a.TTL)
		b = binary.BigEndian.AppendUint16(b, uint16(6*len(a.Addrs)))
		for _, ip := range a.Addrs {
			if !ip.Is4() {
				return nil, &NBNSError{Problem: fmt.Sprintf("address %v is not IPv4", ip)}
			}
			b = binary.BigEndian.AppendUint16(b, a.NBFlags)
			b = append(b, ip.AsSlice()...)
		}
	}
	return b, nil
}

// appendNetBIOSName appends n in RFC 1001 first-level encoding (32 letters
// 'A'..'P', two per byte of the space-padded 16-byte name) followed by its
// scope labels and the root label.
func appendNetBIOSName(b []byte, n NetBIOSName) ([]byte, error) {
	if n.Name == "" || len(n.Name) > 15 {
		return nil, &NBNSError{Problem: fmt.Sprintf("NetBIOS name %q must have 1 to 15 characters", n.Name)}
	}
	var raw [16]byte
	copy(raw[:], n.Name+strings.Repeat(" ", 15-len(n.Name)))
	raw[15] = n.Suffix
	b = append(b, 32)
	for _, c := range raw {
		b = append(b, 'A'+c>>4, 'A'+c&0x0f)
	}
	if n.Scope != "" {
		for label := range strings.SplitSeq(n.Scope, ".") {
			if label == "" || len(label) > 63 {
				return nil, &NBNSError{Problem: fmt.Sprintf("bad scope %q", n.Scope)}
			}
			b = append(b, byte(len(label)))
			b = append(b, label...)
		}
	}
	return append(b, 0), nil
}

// ParseNBNS decodes an NBNS name query request or response. Errors are
// *NBNSError values matching ErrNBNSMalformed. Records other than NB in
// the answer section, and any authority or additional record, make the
// message malformed for this package.
func ParseNBNS(b []byte) (*NBNSPacket, error) {
	if len(b) < 12 {
		return nil, &NBNSError{Problem: fmt.Sprintf("%d bytes is shorter than the 12-byte header", len(b))}
	}
	p := &NBNSPacket{ID: binary.BigEndian.Uint16(b[0:]), Flags: binary.BigEndian.Uint16(b[2:])}
	qd, an := int(binary.BigEndian.Uint16(b[4:])), int(binary.BigEndian.Uint16(b[6:]))
	if ns, ar := binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:]); ns != 0 || ar != 0 {
		return nil, &NBNSError{Problem: fmt.Sprintf("unexpected authority (%d) or additional (%d) records", ns, ar)}
	}
	off := 12
	for range qd {
		name, n, err := parseNetBIOSName(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		if len(b) < off+4 {
			return nil, &NBNSError{Problem: "question truncated"}
		}
		p.Questions = append(p.Questions, NBNSQuestion{Name: name,
			Type: binary.BigEndian.Uint16(b[off:]), Class: binary.BigEndian.Uint16(b[off+2:])})
		off += 4
	}
	for range an {
		name, n, err := parseNetBIOSName(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		if len(b) < off+10 {
			return nil, &NBNSError{Problem: "resource record truncated"}
		}
		a := NBNSAnswer{Name: name, Type: binary.BigEndian.Uint16(b[off:]),
			Class: binary.BigEndian.Uint16(b[off+2:]), TTL: binary.BigEndian.Uint32(b[off+4:])}
		rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
		off += 10
		if a.Type != NBNSTypeNB {
			return nil, &NBNSError{Problem: fmt.Sprintf("resource record type 0x%04x is not NB", a.Type)}
		}
		if rdlen%6 != 0 || len(b) < off+rdlen {
			return nil, &NBNSError{Problem: fmt.Sprintf("NB record data of %d bytes", rdlen)}
		}
		for i := off; i < off+rdlen; i += 6 {
			if i == off {
				a.NBFlags = binary.BigEndian.Uint16(b[i:])
			}
			a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte(b[i+2:i+6])))
		}
		off += rdlen
		p.Answers = append(p.Answers, a)
	}
	if off != len(b) {
		return nil, &NBNSError{Problem: fmt.Sprintf("%d bytes after the last record", len(b)-off)}
	}
	return p, nil
}

// parseNetBIOSName decodes the encoded name at off (no compression
// pointers: name queries and their responses carry none) and returns it
// with the offset after it.
func parseNetBIOSName(b []byte, off int) (NetBIOSName, int, error) {
	if len(b) < off+34 || b[off] != 32 {
		return NetBIOSName{}, 0, &NBNSError{Problem: "name is not a 32-byte first-level encoded label"}
	}
	var raw [16]byte
	for i := range raw {
		hi, lo := b[off+1+2*i]-'A', b[off+2+2*i]-'A'
		if hi > 15 || lo > 15 {
			return NetBIOSName{}, 0, &NBNSError{Problem: "name holds a letter outside A-P"}
		}
		raw[i] = hi<<4 | lo
	}
	n := NetBIOSName{Name: strings.TrimRight(string(raw[:15]), " "), Suffix: raw[15]}
	off += 33
	var scope []string
	for {
		if off >= len(b) {
			return NetBIOSName{}, 0, &NBNSError{Problem: "name truncated"}
		}
		l := int(b[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(b) {
			return NetBIOSName{}, 0, &NBNSError{Problem: "bad scope label (compression pointers are not supported)"}
		}
		scope = append(scope, string(b[off:off+l]))
		off += l
	}
	n.Scope = strings.Join(scope, ".")
	return n, off, nil
}
