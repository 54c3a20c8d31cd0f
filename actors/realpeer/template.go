package realpeer

import (
	"fmt"
	"slices"
	"strings"
)

// Placeholders are the names a Template may use, with what each stands
// for.
var Placeholders = []struct{ Name, Doc string }{
	{"addr", "host:port to connect to (a loopback address of the bridge)"},
	{"host", "the host part of {addr}"},
	{"port", "the port: of {addr} for a client, to listen on for a server"},
	{"sni", "the server name to ask for (SNI) and verify"},
	{"ca", "a PEM file of the CA certificates to trust"},
	{"crl", "a PEM file of the trusted CA's certificate revocation list"},
	{"canary", "the secret the client sends once connected"},
	{"proxy", "host:port of an HTTP CONNECT proxy (loopback) whose tunnels resolve names in the World"},
	{"target", "the server's name:port, to ask the {proxy} for"},
	{"cert", "a PEM file of the server's certificate chain, leaf first"},
	{"chain", "a PEM file of the server's intermediate CA certificates (its chain without the leaf), for openssl s_server -cert_chain"},
	{"key", "a PEM file of the server's private key"},
}

// Template is a command line with {name} placeholders, checked by Parse.
type Template struct {
	text  string
	names []string // in order of appearance, repeated as they are
}

// String returns the template as written.
func (t Template) String() string { return t.text }

// Names returns the placeholders the template uses, each once, in order
// of first appearance.
func (t Template) Names() []string {
	var out []string
	for _, n := range t.names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// TemplateError reports a template that cannot be used: what is wrong and
// at which byte offset (counted from 1, as an editor's column).
type TemplateError struct {
	Template string
	Column   int
	Problem  string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("realpeer: command template, column %d: %s", e.Column, e.Problem)
}

// Parse checks text: not blank, braces paired, every placeholder one of
// Placeholders. A literal brace is written twice ("{{", "}}").
func Parse(text string) (Template, error) {
	if strings.TrimSpace(text) == "" {
		return Template{}, &TemplateError{text, 1, "the command is empty"}
	}
	t := Template{text: text}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '{':
			if i+1 < len(text) && text[i+1] == '{' {
				i++
				continue
			}
			end := strings.IndexByte(text[i:], '}')
			if end < 0 {
				return Template{}, &TemplateError{text, i + 1, `"{" is not closed; write "{{" for a literal brace`}
			}
			name := text[i+1 : i+end]
			if !known(name) {
				return Template{}, &TemplateError{text, i + 1, fmt.Sprintf("unknown placeholder {%s}; known: %s", name, strings.Join(placeholderNames(), ", "))}
			}
			t.names = append(t.names, name)
			i += end
		case '}':
			if i+1 < len(text) && text[i+1] == '}' {
				i++
				continue
			}
			return Template{}, &TemplateError{text, i + 1, `"}" without "{"; write "}}" for a literal brace`}
		}
	}
	return t, nil
}

func known(name string) bool { return slices.Contains(placeholderNames(), name) }

func placeholderNames() []string {
	names := make([]string, len(Placeholders))
	for i, p := range Placeholders {
		names[i] = p.Name
	}
	return names
}

// Expand returns the command line with every placeholder replaced by its
// value in values, quoted for the shell. A placeholder without a value is
// an error naming it.
func (t Template) Expand(values map[string]string) (string, error) {
	var b strings.Builder
	text := t.text
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case (c == '{' || c == '}') && i+1 < len(text) && text[i+1] == c:
			b.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(text[i:], '}')
			name := text[i+1 : i+end]
			v, ok := values[name]
			if !ok {
				return "", fmt.Errorf("realpeer: command template: no value for {%s} here", name)
			}
			b.WriteString(shellQuote(v))
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// shellQuote quotes s as one shell word.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
