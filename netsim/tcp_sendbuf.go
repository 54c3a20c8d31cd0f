package netsim

// sendRing keeps a copy of the stream bytes sent but not yet acknowledged,
// so they can be retransmitted. A byte's place is its sequence number
// modulo the capacity, a power of two, so acknowledging data costs nothing:
// the bytes below the connection's sndUna are simply free again.
//
// Its bytes are written (Write, growth) and read (retransmission) only
// under the connection's txMu; ACK processing never touches them.
type sendRing struct {
	buf []byte // len is a power of two, or zero before the first write
}

// minSendRing is the smallest ring allocated; it doubles as the data in
// flight requires.
const minSendRing = 4 << 10

// store copies data, which starts at sequence number seq, into the ring.
// una is the oldest unacknowledged sequence number: the ring grows, keeping
// the bytes from una to seq, when [una, seq+len(data)) does not fit.
func (r *sendRing) store(una, seq uint32, data []byte) {
	need := int(seq-una) + len(data)
	if need > len(r.buf) {
		r.grow(una, int(seq-una), need)
	}
	mask := uint32(len(r.buf) - 1)
	for len(data) > 0 {
		i := int(seq & mask)
		n := copy(r.buf[i:], data)
		data = data[n:]
		seq += uint32(n)
	}
}

// grow reallocates the ring to hold need bytes, keeping the kept bytes that
// start at una.
func (r *sendRing) grow(una uint32, kept, need int) {
	size := max(len(r.buf), minSendRing)
	for size < need {
		size *= 2
	}
	old := r.buf
	r.buf = make([]byte, size)
	if kept > 0 {
		tmp := make([]byte, kept)
		(&sendRing{buf: old}).load(una, tmp)
		r.store(una, una, tmp)
	}
}

// load copies the bytes starting at sequence number seq into dst, which
// the caller sizes to at most the bytes the ring holds from seq.
func (r *sendRing) load(seq uint32, dst []byte) {
	mask := uint32(len(r.buf) - 1)
	for len(dst) > 0 {
		i := int(seq & mask)
		n := copy(dst, r.buf[i:])
		dst = dst[n:]
		seq += uint32(n)
	}
}
