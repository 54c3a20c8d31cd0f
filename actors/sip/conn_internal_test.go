package sip

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	sipgo "github.com/emiago/sipgo/sip"
)

// testRequest is a MESSAGE whose body holds CRLFs and a fake start line,
// so only Content-Length can delimit it.
func testRequest(t *testing.T, body string) *sipgo.Request {
	t.Helper()
	to, err := parseAddress("bob@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	from, _ := parseAddress("alice@contoso.com")
	d := &dialog{from: from, tag: "t1", callID: "c1"}
	return newRequest(sipgo.MESSAGE, to, to, d, newVia(TransportTLS, "10.0.0.50", 49152, "z9hG4bKtest"), "text/plain", []byte(body))
}

// feed writes data to a pipe in chunks of size n and closes it.
func feed(data string, n int) net.Conn {
	client, server := net.Pipe()
	go func() {
		defer client.Close()
		for len(data) > 0 {
			k := min(n, len(data))
			if _, err := io.WriteString(client, data[:k]); err != nil {
				return
			}
			data = data[k:]
		}
	}()
	return server
}

func TestMsgConnFraming(t *testing.T) {
	bodies := []string{"first\r\n\r\nINVITE sip:x SIP/2.0\r\n", "", "third"}
	var stream strings.Builder
	for _, b := range bodies {
		stream.WriteString(testRequest(t, b).String())
	}
	stream.WriteString("\r\n") // a keep-alive CRLF between messages (RFC 5626)
	for _, chunk := range []int{1, 7, 4096} {
		conn := feed(stream.String(), chunk)
		mc := newMsgConn(conn)
		for i, want := range bodies {
			msg, err := mc.read()
			if err != nil {
				t.Fatalf("chunk %d: message %d: %v", chunk, i, err)
			}
			req, ok := msg.(*sipgo.Request)
			if !ok || req.Method != sipgo.MESSAGE || string(req.Body()) != want || branchOf(req) != "z9hG4bKtest" {
				t.Fatalf("chunk %d: message %d = %q, want body %q", chunk, i, msg.String(), want)
			}
		}
		if _, err := mc.read(); err != io.EOF {
			t.Errorf("chunk %d: after the last message: %v, want io.EOF", chunk, err)
		}
		mc.close()
		conn.Close()
	}
}

func TestMsgConnErrors(t *testing.T) {
	full := testRequest(t, "truncated body").String()
	tests := []struct {
		name  string
		data  string
		check func(error) bool
	}{
		{"closed inside a message", full[:len(full)-3], func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"closed inside the headers", full[:40], func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"not SIP", "HELLO\r\n\r\n", func(err error) bool {
			var pe *parseError
			return errors.As(err, &pe) && strings.HasPrefix(err.Error(), "malformed SIP message: ")
		}},
		{"no Content-Length", "MESSAGE sip:bob@contoso.com SIP/2.0\r\nCall-ID: x\r\n\r\n", func(err error) bool {
			return errors.Is(err, sipgo.ErrParseReadBodyIncomplete)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := feed(tt.data, 5)
			defer conn.Close()
			mc := newMsgConn(conn)
			defer mc.close()
			if _, err := mc.read(); !tt.check(err) {
				t.Errorf("read: %v", err)
			}
		})
	}
}

func TestWarningRoundTrip(t *testing.T) {
	for _, text := range []string{
		`fe02: MTLS peer fe99.contoso.com is not in the trusted server list`,
		`quoted "name" and back\slash`,
	} {
		if got := warningText(warningValue("fe01.contoso.com", text)); got != text {
			t.Errorf("round trip of %q = %q", text, got)
		}
	}
}
