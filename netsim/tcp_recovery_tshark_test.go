package netsim

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
)

// TestRetransmissionsTshark captures, at the sender's NIC (which sees
// frames before the segment's hook drops them), a transfer that loses a
// data segment mid-stream, the last data segment and the FIN. Wireshark's
// TCP analysis must flag the resent segments as retransmissions (the last
// segment and the FIN go again as one) and find nothing malformed and no
// bad checksum. Without tshark it is skipped,
// except in CI (CI=true), where it fails.
func TestRetransmissionsTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark is not installed; CI must have it")
		}
		t.Skip("tshark not found")
	}
	const size = 100_000
	var pcap bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, pairConfig{})
		c, err := NewCapture(&pcap)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AttachNIC(p.na); err != nil {
			t.Fatal(err)
		}
		hook := &lossHook{}
		p.lan.AddHook(hook)
		offset := clientData(40000) // a port no dissector claims
		lost := map[string]bool{}
		hook.setRule(func(pk *tcpPacket) bool {
			off, ok := offset(pk)
			var what string
			switch {
			case pk.tcp.DstPort == 40000 && pk.tcp.FIN:
				what = "FIN"
			case ok && off == 10*1460:
				what = "mid-stream"
			case ok && off+uint32(len(pk.tcp.Payload)) == size:
				what = "last"
			default:
				return false
			}
			if lost[what] {
				return false
			}
			lost[what] = true
			return true
		})
		cc, ss := connect(t, p.a, p.b, "40000")
		transfer(t, cc, ss, payload(13, size))
		cc.Close()
		ss.Close()
		synctest.Wait()
		if n := len(hook.drops()); n != 3 {
			t.Errorf("dropped %d segments, want 3", n)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
	file := filepath.Join(t.TempDir(), "retransmissions.pcapng")
	if err := os.WriteFile(file, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(filter string) []string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), tshark, "-r", file,
			"-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
			"-Y", filter, "-T", "fields", "-e", "frame.number", "-e", "tcp.len", "-e", "_ws.expert.message")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark -Y %q: %v\n%s", filter, err, stderr.String())
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			return strings.Split(s, "\n")
		}
		return nil
	}
	if bad := run("_ws.malformed || _ws.expert.severity >= error"); len(bad) != 0 {
		t.Errorf("tshark finds malformed packets or errors:\n%s", strings.Join(bad, "\n"))
	}
	// The mid-stream loss draws duplicate ACKs and a fast retransmission;
	// the last segment and the FIN are resent together on timeout.
	rtx := run("tcp.analysis.retransmission")
	if len(rtx) != 2 || !strings.Contains(rtx[0], "fast retransmission") || !strings.Contains(rtx[1], "(FIN)") {
		t.Errorf("tshark flags these retransmissions, want a fast one and the last segment with the FIN:\n%s", strings.Join(rtx, "\n"))
	}
}
