package tlswire

import "strconv"

// Alert levels (RFC 5246 section 7.2).
const (
	AlertWarning = 1
	AlertFatal   = 2
)

// ParseAlert reads a plaintext alert record body: a level and a
// description (tls.AlertError's number). ok is false unless body is
// exactly two bytes, as a protected alert never is.
func ParseAlert(body []byte) (level, description uint8, ok bool) {
	if len(body) != 2 {
		return 0, 0, false
	}
	return body[0], body[1], true
}

// Alert is a plaintext alert as it crossed the wire.
type Alert struct {
	Level, Description uint8
}

// PlaintextAlerts returns, in the order sent, the plaintext alerts among
// the whole records at the start of stream (one direction of a
// connection, from its first byte). A protected alert is not among them:
// in TLS 1.2 after ChangeCipherSpec its body is longer than two bytes, and
// in TLS 1.3 it travels as application data. Reading stops at a record
// cut off and at bytes that are not a record.
func PlaintextAlerts(stream []byte) []Alert {
	recs, _, _ := SplitRecords(stream)
	var alerts []Alert
	for _, r := range recs {
		if r.Type != ContentAlert {
			continue
		}
		if level, desc, ok := ParseAlert(r.Body); ok {
			alerts = append(alerts, Alert{Level: level, Description: desc})
		}
	}
	return alerts
}

// alertNames are the RFCs' names (RFC 8446 section 6; RFC 5246 section
// 7.2 and RFC 6066 for the codes TLS 1.3 retired; RFC 9849 for
// ech_required), without the _RESERVED suffix that marks a retired code.
var alertNames = map[uint8]string{
	0:   "close_notify",
	10:  "unexpected_message",
	20:  "bad_record_mac",
	21:  "decryption_failed",
	22:  "record_overflow",
	30:  "decompression_failure",
	40:  "handshake_failure",
	41:  "no_certificate",
	42:  "bad_certificate",
	43:  "unsupported_certificate",
	44:  "certificate_revoked",
	45:  "certificate_expired",
	46:  "certificate_unknown",
	47:  "illegal_parameter",
	48:  "unknown_ca",
	49:  "access_denied",
	50:  "decode_error",
	51:  "decrypt_error",
	60:  "export_restriction",
	70:  "protocol_version",
	71:  "insufficient_security",
	80:  "internal_error",
	86:  "inappropriate_fallback",
	90:  "user_canceled",
	100: "no_renegotiation",
	109: "missing_extension",
	110: "unsupported_extension",
	111: "certificate_unobtainable",
	112: "unrecognized_name",
	113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value",
	115: "unknown_psk_identity",
	116: "certificate_required",
	120: "no_application_protocol",
	121: "ech_required",
}

// AlertName returns the registry name of an alert description, as the
// RFCs spell it: "unknown_ca" for 48, "bad_certificate" for 42. Codes
// no RFC assigns are "alert(N)".
func AlertName(description uint8) string {
	if n, ok := alertNames[description]; ok {
		return n
	}
	return "alert(" + strconv.Itoa(int(description)) + ")"
}
