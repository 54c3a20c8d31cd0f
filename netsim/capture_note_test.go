package netsim

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The Decryption Secrets Block is written exactly as pcapng lays it out,
// its data padded to 32 bits.
func TestAppendDecryptionSecrets(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want []byte
	}{
		{"padded", "abcde", le32s(0x0A, 28, 0x544c534b, 5, []byte("abcd"), []byte{'e', 0, 0, 0}, 28)},
		{"aligned", "abcd", le32s(0x0A, 24, 0x544c534b, 4, []byte("abcd"), 24)},
		{"empty", "", le32s(0x0A, 20, 0x544c534b, 0, 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := appendDecryptionSecrets([]byte{0xff}, SecretsTLSKeyLog, []byte(tc.data))
			if want := append([]byte{0xff}, tc.want...); !bytes.Equal(got, want) {
				t.Errorf("got  % x\nwant % x", got, want)
			}
		})
	}
}

// le32s lays out uint32 values little-endian and byte slices as they are.
func le32s(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = binary.LittleEndian.AppendUint32(b, uint32(p))
		case []byte:
			b = append(b, p...)
		}
	}
	return b
}

// A World forgets its oldest note beyond maxFrameNotes, and keeps the
// latest note given for one frame.
func TestFrameNotesBounded(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	defer w.Close()
	frames := make([][]byte, maxFrameNotes+1)
	for i := range frames {
		frames[i] = []byte{byte(i), byte(i >> 8)}
		if got := w.NoteFrame(frames[i], "note"); &got[0] != &frames[i][0] {
			t.Fatal("NoteFrame did not return its frame")
		}
	}
	w.NoteFrame(frames[maxFrameNotes], "last")
	w.NoteFrame(nil, "ignored")
	w.NoteFrame(frames[1], "")
	if got := w.frameNote(frames[0]); got != "" {
		t.Errorf("oldest note kept: %q", got)
	}
	if got := w.frameNote(frames[1]); got != "note" {
		t.Errorf("second note %q, want %q", got, "note")
	}
	if got := w.frameNote(frames[maxFrameNotes]); got != "last" {
		t.Errorf("latest note %q, want %q", got, "last")
	}
	if got := w.frameNote(bytes.Clone(frames[1])); got != "" {
		t.Errorf("a copy of a noted frame has note %q", got)
	}
	for range maxPendingNotes + 6 {
		w.NoteNext(func([]byte) bool { return false }, "never")
	}
	if n, active := len(w.notes.pending), int(w.notes.active.Load()); n != maxPendingNotes || active != maxFrameNotes+maxPendingNotes {
		t.Errorf("%d notes pending, %d active; want %d and %d", n, active, maxPendingNotes, maxFrameNotes+maxPendingNotes)
	}
	frames[1][0] = 0xee // the buffer recycled for another frame
	if got := w.frameNote(frames[1]); got != "" {
		t.Errorf("a recycled buffer kept note %q", got)
	}
}

// notedCapture captures, on segment "lan" and on a's NIC, a spoofed ARP
// reply b sends with a note, a plain one, and a TCP exchange whose key log
// line is embedded; with hold, the last frame a sent is noted after the
// fact. It returns the pcapng.
func notedCapture(t *testing.T, hold bool) []byte {
	var buf bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, err := NewCaptureWith(&buf, CaptureOptions{Hold: hold})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AttachSegment(p.lan); err != nil {
			t.Fatal(err)
		}
		if err := c.AttachNIC(p.na); err != nil {
			t.Fatal(err)
		}
		spoofed := encodeARP(uint16(layers.ARPReply), p.nb.MAC(), netip.MustParseAddr("10.0.0.9"), p.na.MAC(), p.na.Addr(), p.na.MAC())
		p.nb.WriteFrame(p.w.NoteFrame(spoofed, "b: spoofed ARP reply 10.0.0.9 is-at "+p.nb.MAC().String()))
		p.nb.WriteFrame(encodeARP(uint16(layers.ARPReply), p.nb.MAC(), p.nb.Addr(), p.na.MAC(), p.na.Addr(), p.na.MAC()))
		synctest.Wait() // both replies reached a's NIC
		io.WriteString(c.KeyLogWriter(), "CLIENT_RANDOM 00 11\n")
		io.WriteString(c.KeyLogWriter(), "SERVER_RANDOM 22 33\n")
		cc, ss := connect(t, p.a, p.b, "40000")
		p.w.NoteNext(func(frame []byte) bool { return tcpPayloadLen(frame) > 0 }, "a: the first data")
		p.w.NoteNext(func(frame []byte) bool { return false }, "never")
		cc.Write([]byte("hello"))
		io.ReadFull(ss, make([]byte, 5))
		cc.Close()
		ss.Close()
		synctest.Wait()
		fromA := func(frame []byte) bool { return bytes.Equal(frame[6:12], p.na.MAC()) }
		if got := c.NoteLast(fromA, "a: the last frame a sent"); got != hold {
			t.Errorf("NoteLast = %v with Hold %v", got, hold)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if c.NoteLast(fromA, "late") {
			t.Error("NoteLast after Close succeeded")
		}
		if err := c.WriteSecrets(SecretsTLSKeyLog, []byte("late\n")); err == nil {
			t.Error("WriteSecrets after Close succeeded")
		}
	})
	return buf.Bytes()
}

// Notes become packet comments on every copy of the noted frame and on no
// other; secrets become one Decryption Secrets Block ahead of the frames
// captured after them; a holding capture writes the same stream plus the
// notes added after the fact.
func TestCaptureNotesAndSecrets(t *testing.T) {
	for _, hold := range []bool{false, true} {
		t.Run(map[bool]string{false: "streaming", true: "holding"}[hold], func(t *testing.T) {
			data := notedCapture(t, hold)
			r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
			if err != nil {
				t.Fatal(err)
			}
			type packet struct {
				data     []byte
				comments []string
			}
			var packets []packet
			for {
				data, _, opts, err := r.ReadPacketDataWithOptions()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				packets = append(packets, packet{data, opts.Comments})
			}
			spoof := []string{"b: spoofed ARP reply 10.0.0.9 is-at 02:00:5e:00:00:02"}
			spoofed := func(data []byte) bool { return len(data) >= 32 && bytes.Equal(data[28:32], []byte{10, 0, 0, 9}) }
			lastFromA := -1
			for i, p := range packets {
				if bytes.Equal(p.data[6:12], []byte{2, 0, 0x5e, 0, 0, 1}) {
					lastFromA = i
				}
			}
			if len(packets) < 8 || lastFromA < 4 {
				t.Fatalf("%d packets, the last from a at %d", len(packets), lastFromA)
			}
			for i, p := range packets {
				var want []string
				switch {
				case i < 4 && spoofed(p.data):
					want = spoof // on the segment and at a's NIC
				case hold && i == lastFromA:
					want = []string{"a: the last frame a sent"}
				case tcpPayloadLen(p.data) > 0:
					want = []string{"a: the first data"} // at a's NIC, then on the segment
				}
				if !slices.Equal(p.comments, want) {
					t.Errorf("packet %d: comments %q, want %q", i, p.comments, want)
				}
			}
			if n := countFunc(packets, func(p packet) bool { return tcpPayloadLen(p.data) > 0 }); n != 2 {
				t.Errorf("%d copies of the data segment, want 2", n)
			}
			if n := slices.IndexFunc(packets[4:], func(p packet) bool { return spoofed(p.data) }); n >= 0 {
				t.Errorf("packet %d is another spoofed reply", n+4)
			}
			blocks := pcapngBlocks(t, data)
			dsb := slices.IndexFunc(blocks, func(b pcapngBlock) bool { return b.typ == blockTypeDecryptionSecrets })
			if dsb < 0 {
				t.Fatal("no Decryption Secrets Block")
			}
			if got, want := blocks[dsb].body, le32s(0x544c534b, 40, []byte("CLIENT_RANDOM 00 11\nSERVER_RANDOM 22 33\n")); !bytes.Equal(got, want) {
				t.Errorf("secrets block body %q, want %q", got, want)
			}
			// Streaming, the four ARP frames (two points each) came before
			// the secrets, the TCP exchange after; holding, the secrets go
			// ahead of every held frame.
			want := 4
			if hold {
				want = 0
			}
			if epbs := countBlocks(blocks[:dsb], 6); epbs != want {
				t.Errorf("%d packets before the secrets, want %d", epbs, want)
			}
			if n := countBlocks(blocks, blockTypeDecryptionSecrets); n != 1 {
				t.Errorf("%d secrets blocks, want 1", n)
			}
		})
	}
}

// tcpPayloadLen returns the TCP payload length of an Ethernet/IPv4/TCP
// frame, or -1 for another frame.
func tcpPayloadLen(frame []byte) int {
	if len(frame) < ethHeaderLen+ipv4HeaderLen+tcpHeaderLen || frame[12] != 8 || frame[13] != 0 || frame[ethHeaderLen+9] != 6 {
		return -1
	}
	ip := frame[ethHeaderLen:]
	ihl := int(ip[0]&0x0f) * 4
	return int(binary.BigEndian.Uint16(ip[2:4])) - ihl - int(ip[ihl+12]>>4)*4
}

func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, v := range s {
		if f(v) {
			n++
		}
	}
	return n
}

type pcapngBlock struct {
	typ  uint32
	body []byte // between the length fields
}

// pcapngBlocks splits a little-endian pcapng stream into its blocks,
// checking each one's two length fields agree.
func pcapngBlocks(t *testing.T, data []byte) []pcapngBlock {
	t.Helper()
	var blocks []pcapngBlock
	for len(data) > 0 {
		if len(data) < 12 {
			t.Fatalf("%d trailing bytes", len(data))
		}
		typ, n := binary.LittleEndian.Uint32(data), int(binary.LittleEndian.Uint32(data[4:]))
		if n < 12 || n%4 != 0 || n > len(data) || int(binary.LittleEndian.Uint32(data[n-4:])) != n {
			t.Fatalf("block type %#x: bad length %d", typ, n)
		}
		blocks = append(blocks, pcapngBlock{typ: typ, body: data[8 : n-4]})
		data = data[n:]
	}
	return blocks
}

func countBlocks(blocks []pcapngBlock, typ uint32) int {
	n := 0
	for _, b := range blocks {
		if b.typ == typ {
			n++
		}
	}
	return n
}

// tshark reads the comments as frame.comment and the secrets block
// without a complaint.
func TestCaptureNotesTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed; CI must have it")
		}
		t.Skip("tshark not found")
	}
	file := filepath.Join(t.TempDir(), "noted.pcapng")
	if err := os.WriteFile(file, notedCapture(t, true), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), tshark, "-r", file, "-Y", "frame.comment", "-T", "fields", "-e", "frame.number", "-e", "frame.comment")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	if s := strings.TrimSpace(strings.ReplaceAll(stderr.String(), runningAsRoot, "")); s != "" {
		t.Errorf("tshark complained:\n%s", s)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	spoof := "\tb: spoofed ARP reply 10.0.0.9 is-at 02:00:5e:00:00:02"
	if len(lines) != 5 || !strings.HasSuffix(lines[0], spoof) || !strings.HasSuffix(lines[1], spoof) ||
		!strings.HasSuffix(lines[2], "\ta: the first data") || !strings.HasSuffix(lines[3], "\ta: the first data") ||
		!strings.HasSuffix(lines[4], "\ta: the last frame a sent") {
		t.Errorf("tshark frame comments:\n%s", out)
	}
}

// runningAsRoot is what tshark says on stderr when run as root, as in
// some CI containers.
const runningAsRoot = `Running as user "root" and group "root". This could be dangerous.`
