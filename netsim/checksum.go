package netsim

import (
	"encoding/binary"
	"math/bits"
)

// onesSum adds b to the running Internet checksum accumulator sum (RFC 1071)
// and returns the new accumulator. It reads eight bytes at a time with
// end-around carry, which makes checksumming a full-size segment a small
// fraction of the cost of copying it. b may have odd length; an odd trailing
// byte is padded with zero, so only the last chunk of a message may be odd.
func onesSum(sum uint64, b []byte) uint64 {
	var carry uint64
	for len(b) >= 32 {
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b), 0)
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b[8:]), carry)
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b[16:]), carry)
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b[24:]), carry)
		sum += carry
		b = b[32:]
	}
	for len(b) >= 8 {
		sum, carry = bits.Add64(sum, binary.BigEndian.Uint64(b), 0)
		sum += carry
		b = b[8:]
	}
	if len(b) >= 4 {
		sum, carry = bits.Add64(sum, uint64(binary.BigEndian.Uint32(b)), 0)
		sum += carry
		b = b[4:]
	}
	if len(b) >= 2 {
		sum, carry = bits.Add64(sum, uint64(binary.BigEndian.Uint16(b)), 0)
		sum += carry
		b = b[2:]
	}
	if len(b) == 1 {
		sum, carry = bits.Add64(sum, uint64(b[0])<<8, 0)
		sum += carry
	}
	return sum
}

// foldSum folds a 64-bit accumulator from onesSum into the 16-bit ones'
// complement sum. The Internet checksum is the complement of the result.
func foldSum(sum uint64) uint16 {
	sum = (sum >> 32) + (sum & 0xffffffff)
	sum = (sum >> 32) + (sum & 0xffffffff)
	sum = (sum >> 16) + (sum & 0xffff)
	sum = (sum >> 16) + (sum & 0xffff)
	return uint16(sum)
}

// pseudoHeaderSum returns the accumulator for the IPv4 pseudo-header that
// TCP and UDP checksums cover. src and dst are 4-byte addresses.
func pseudoHeaderSum(src, dst []byte, proto uint8, length int) uint64 {
	sum := uint64(binary.BigEndian.Uint32(src)) + uint64(binary.BigEndian.Uint32(dst))
	return sum + uint64(proto) + uint64(length)
}

// internetChecksum returns the checksum to store in a header whose bytes
// (with the checksum field zeroed) sum to sum.
func internetChecksum(sum uint64) uint16 {
	return ^foldSum(sum)
}
