package tlswire

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
