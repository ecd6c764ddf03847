package main

import (
	"encoding/binary"
	"fmt"
)

// sanitize rewrites, in place, the BTF kinds that Debian's cilium/ebpf (0.9.1) cannot parse but
// kernels since 5.16/6.0 emit, the way libbpf sanitizes BTF for old kernels, record sizes kept:
// DECL_TAG → INT (1 byte), TYPE_TAG → CONST, ENUM64 → UNION of void members (its 12-byte
// entries become 12-byte members). Without this, cilium/ebpf 0.9.1 cannot do CO-RE on this kernel.
func sanitize(b []byte) error {
	le := binary.LittleEndian
	if len(b) < 24 || le.Uint16(b) != 0xeb9f {
		return fmt.Errorf("not BTF")
	}
	hdr := le.Uint32(b[4:])
	off := int(hdr + le.Uint32(b[8:]))
	end := off + int(le.Uint32(b[12:]))
	for off < end {
		info := le.Uint32(b[off+4:])
		kind := (info >> 24) & 0x1f
		vlen := int(info & 0xffff)
		rec := 12
		switch kind {
		case 1, 14, 17: // INT, VAR, DECL_TAG
			rec += 4
		case 3: // ARRAY
			rec += 12
		case 4, 5, 15, 19: // STRUCT, UNION, DATASEC, ENUM64
			rec += 12 * vlen
		case 6, 13: // ENUM, FUNC_PROTO
			rec += 8 * vlen
		}
		switch kind {
		case 17:
			le.PutUint32(b[off:], 0)
			le.PutUint32(b[off+4:], 1<<24)
			le.PutUint32(b[off+8:], 1)
			le.PutUint32(b[off+12:], 8)
		case 18:
			le.PutUint32(b[off+4:], 10<<24)
		case 19:
			le.PutUint32(b[off+4:], 5<<24|uint32(vlen))
			for m := off + 12; m < off+rec; m += 12 {
				le.PutUint32(b[m+4:], 0)
				le.PutUint32(b[m+8:], 0)
			}
		}
		off += rec
	}
	return nil
}
