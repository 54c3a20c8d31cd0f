package netsim

import (
	"encoding/binary"
	"math/bits"
)

// onesSum adds b to the running Internet checksum accumulator sum (RFC 1071)
// and returns the new accumulator. It adds native little-endian 64-bit words
// with end-around carry; the ones' complement sum is independent of byte
// order (RFC 1071 section 2(B)), so foldSum swaps the folded result back to
// network order. b may have odd length; an odd trailing byte is padded with
// zero, so only the last chunk of a message may be odd. Accumulators from
// different calls add with addSums.
func onesSum(sum uint64, b []byte) uint64 {
	// Two independent carry chains let the CPU add two words per cycle.
	var odd, c0, c1 uint64
	for len(b) >= 32 {
		sum, c0 = bits.Add64(sum, binary.LittleEndian.Uint64(b), c0)
		odd, c1 = bits.Add64(odd, binary.LittleEndian.Uint64(b[8:]), c1)
		sum, c0 = bits.Add64(sum, binary.LittleEndian.Uint64(b[16:]), c0)
		odd, c1 = bits.Add64(odd, binary.LittleEndian.Uint64(b[24:]), c1)
		b = b[32:]
	}
	var carry uint64
	sum, carry = bits.Add64(sum, odd, 0)
	sum, carry = bits.Add64(sum, c0+c1, carry)
	sum, carry = bits.Add64(sum, 0, carry)
	sum += carry
	for len(b) >= 8 {
		sum, carry = bits.Add64(sum, binary.LittleEndian.Uint64(b), 0)
		sum += carry
		b = b[8:]
	}
	if len(b) >= 4 {
		sum, carry = bits.Add64(sum, uint64(binary.LittleEndian.Uint32(b)), 0)
		sum += carry
		b = b[4:]
	}
	if len(b) >= 2 {
		sum, carry = bits.Add64(sum, uint64(binary.LittleEndian.Uint16(b)), 0)
		sum += carry
		b = b[2:]
	}
	if len(b) == 1 {
		sum, carry = bits.Add64(sum, uint64(b[0]), 0)
		sum += carry
	}
	return sum
}

// foldSum folds a 64-bit accumulator from onesSum into the 16-bit ones'
// complement sum in network byte order. The Internet checksum is the
// complement of the result.
func foldSum(sum uint64) uint16 {
	sum = (sum >> 32) + (sum & 0xffffffff)
	sum = (sum >> 32) + (sum & 0xffffffff)
	sum = (sum >> 16) + (sum & 0xffff)
	sum = (sum >> 16) + (sum & 0xffff)
	return bits.ReverseBytes16(uint16(sum))
}

// pseudoHeaderSum returns the accumulator for the IPv4 pseudo-header that
// TCP and UDP checksums cover. src and dst are 4-byte addresses.
func pseudoHeaderSum(src, dst []byte, proto uint8, length int) uint64 {
	sum := uint64(binary.LittleEndian.Uint32(src)) + uint64(binary.LittleEndian.Uint32(dst))
	return sum + uint64(bits.ReverseBytes16(uint16(proto))) + uint64(bits.ReverseBytes16(uint16(length)))
}

// internetChecksum returns the checksum to store in a header whose bytes
// (with the checksum field zeroed) sum to sum.
func internetChecksum(sum uint64) uint16 {
	return ^foldSum(sum)
}
