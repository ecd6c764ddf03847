// Reference for the `map` benchmark: cilium/ebpf's Map on a hash map of ENTRIES entries (8-byte
// keys, 64-byte values), filled first; then CPU time (getrusage) per operation over OPS operations
// each: Update, Lookup (keys in a scattered order), BatchLookup of the whole map 256 at a time and
// BatchUpdate 256 at a time (per entry). Keys and values are []byte (Lookup's value an
// unsafe.Pointer: no buffer allocated per call), and the batches' slices
// implement encoding.Binary(Un)Marshaler: cilium/ebpf's fast paths, without reflection.
//
//	go-map ENTRIES OPS   → "update_ns lookup_ns batch_lookup_ns batch_update_ns"
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

const batch = 256

type keys []uint64
type values [][64]byte

func (k keys) MarshalBinary() ([]byte, error) {
	return unsafe.Slice((*byte)(unsafe.Pointer(&k[0])), len(k)*8), nil
}
func (k keys) UnmarshalBinary(b []byte) error {
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&k[0])), len(k)*8), b)
	return nil
}
func (v values) MarshalBinary() ([]byte, error) {
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*64), nil
}
func (v values) UnmarshalBinary(b []byte) error {
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*64), b)
	return nil
}

func cpuNs() int64 {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	entries, _ := strconv.Atoi(os.Args[1])
	ops, _ := strconv.Atoi(os.Args[2])
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 64, MaxEntries: uint32(entries)})
	must(err)
	key := make([]byte, 8)
	value := make([]byte, 64)
	for i := range value {
		value[i] = 7
	}
	for i := 0; i < entries; i++ {
		binary.LittleEndian.PutUint64(key, uint64(i))
		must(m.Update(key, value, ebpf.UpdateAny))
	}
	// the same scattered order on every side: 7919 is prime, so i*7919 mod N visits every key
	keyAt := func(i int) uint64 { return uint64(i*7919) % uint64(entries) }

	t := cpuNs()
	for i := 0; i < ops; i++ {
		binary.LittleEndian.PutUint64(key, keyAt(i))
		must(m.Update(key, value, ebpf.UpdateAny))
	}
	update := cpuNs() - t

	out := make([]byte, 64)
	t = cpuNs()
	for i := 0; i < ops; i++ {
		binary.LittleEndian.PutUint64(key, keyAt(i))
		must(m.Lookup(key, unsafe.Pointer(&out[0])))
	}
	lookup := cpuNs() - t

	ks := make(keys, batch)
	vs := make(values, batch)
	var cursor uint64
	read := 0
	t = cpuNs()
	for read < ops {
		var prev interface{}
		for first := true; ; first = false {
			if !first {
				prev = cursor
			}
			n, err := m.BatchLookup(prev, &cursor, ks, vs, nil)
			read += n
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				break
			}
			must(err)
		}
	}
	batchLookup := cpuNs() - t

	for i := range vs {
		vs[i] = [64]byte{7}
	}
	written := 0
	t = cpuNs()
	for written < ops {
		for j := range ks {
			ks[j] = keyAt(written + j)
		}
		n, err := m.BatchUpdate(ks, vs, nil)
		must(err)
		written += n
	}
	batchUpdate := cpuNs() - t
	fmt.Printf("%.1f %.1f %.1f %.1f\n", float64(update)/float64(ops), float64(lookup)/float64(ops), float64(batchLookup)/float64(read), float64(batchUpdate)/float64(written))
}
