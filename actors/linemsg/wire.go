package linemsg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxLineBytes bounds a protocol line, newline included.
const MaxLineBytes = 64 << 10

const (
	verbMsg   = "MSG "
	replyOK   = "OK"
	replyErr  = "ERR "
	lineDelim = '\n'
)

// ProtocolError reports a line that does not follow the wire format.
type ProtocolError struct {
	Got  string // the offending line without its newline, possibly truncated
	Want string // what the format allows here
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("unexpected line %q, want %s", e.Got, e.Want)
}

// RejectedError is the server's "ERR <reason>" answer as seen by the client.
type RejectedError struct {
	Reason string
}

func (e *RejectedError) Error() string { return "server rejected message: " + e.Reason }

// errLineTooLong is returned by readLine when no newline arrives within
// MaxLineBytes.
var errLineTooLong = errors.New("line exceeds linemsg.MaxLineBytes")

// readLine returns the next line without its newline. A line cut short by
// EOF is an error (io.ErrUnexpectedEOF), as is an empty stream (io.EOF).
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		frag, err := r.ReadSlice(lineDelim)
		if b.Len()+len(frag) > MaxLineBytes {
			return "", errLineTooLong
		}
		b.Write(frag)
		switch {
		case err == nil:
			s := b.String()
			return s[:len(s)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && b.Len() > 0:
			return "", io.ErrUnexpectedEOF
		default:
			return "", err
		}
	}
}

// checkBody reports why body cannot be sent in one line.
func checkBody(body string) error {
	if strings.ContainsRune(body, lineDelim) {
		return errors.New("body contains a newline")
	}
	if len(verbMsg)+len(body)+1 > MaxLineBytes {
		return errLineTooLong
	}
	return nil
}

// parseMsg extracts the body of a "MSG <body>" line.
func parseMsg(line string) (string, error) {
	body, ok := strings.CutPrefix(line, verbMsg)
	if !ok {
		return "", &ProtocolError{Got: truncate(line), Want: `"MSG <body>"`}
	}
	return body, nil
}

// parseReply interprets the server's answer.
func parseReply(line string) error {
	if line == replyOK {
		return nil
	}
	if reason, ok := strings.CutPrefix(line, replyErr); ok {
		return &RejectedError{Reason: reason}
	}
	return &ProtocolError{Got: truncate(line), Want: `"OK" or "ERR <reason>"`}
}

func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
