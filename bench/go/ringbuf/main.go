// Reference consumer for the `ringbuf` and `perfbuf` benchmarks: cilium/ebpf's ringbuf.Reader or
// perf.Reader on a map pinned by the benchmark, read the way its documentation shows (ReadInto
// with one reused Record), summing each record's first u64 (the producer's sequence number) so
// that every record is touched and a lost or doubled one shows in the sum.
//
//	go-ringbuf ring|perf PIN [PERF_BUFFER_BYTES]
//
// Protocol (the same for every consumer of the benchmarks): prints "ready" once the reader is set
// up; then each line on stdin is
//   - "drain N": read the N records waiting in the buffer, print "count sum wall_ns cpu_ns" (wall
//     and CPU time of this process for it), and wait for the next line;
//   - "go": follow the buffer from now on; a later line N says how many records to expect in all;
//     once N are read, print the same line and exit.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// count and sum are written by the reading loop alone, with plain stores (no atomic read-modify-write
// in the loop being measured); the stdin goroutine reads count only to notice that the reader
// already has everything (it is then blocked in ReadInto), an aligned 64-bit load on amd64.
var (
	count, target int64
	sum           uint64
	start         time.Time
	cpu0          int64
	once          sync.Once
)

func cpuNs() int64 {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func result() {
	fmt.Printf("%d %d %d %d\n", atomic.LoadInt64(&count), sum, time.Since(start).Nanoseconds(), cpuNs()-cpu0)
}

func finish() {
	once.Do(func() {
		result()
		os.Exit(0)
	})
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	m, err := ebpf.LoadPinnedMap(os.Args[2], nil)
	if err != nil {
		fail(err)
	}
	var read func() ([]byte, error)
	switch os.Args[1] {
	case "ring":
		r, err := ringbuf.NewReader(m)
		if err != nil {
			fail(err)
		}
		var rec ringbuf.Record
		read = func() ([]byte, error) { err := r.ReadInto(&rec); return rec.RawSample, err }
	case "perf":
		size, _ := strconv.Atoi(os.Args[3])
		r, err := perf.NewReader(m, size)
		if err != nil {
			fail(err)
		}
		var rec perf.Record
		read = func() ([]byte, error) {
			for {
				if err := r.ReadInto(&rec); err != nil {
					return nil, err
				}
				if rec.LostSamples == 0 {
					return rec.RawSample, nil
				}
			}
		}
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		count, sum = 0, 0
		start = time.Now()
		cpu0 = cpuNs()
		if line := in.Text(); strings.HasPrefix(line, "drain ") {
			want, _ := strconv.ParseInt(line[len("drain "):], 10, 64)
			for count < want {
				b, err := read()
				if err != nil {
					fail(err)
				}
				sum += binary.LittleEndian.Uint64(b)
				count++
			}
			result()
			continue
		}
		go func() {
			for in.Scan() {
				n, _ := strconv.ParseInt(strings.TrimSpace(in.Text()), 10, 64)
				atomic.StoreInt64(&target, n)
				if atomic.LoadInt64(&count) >= n {
					finish()
				}
			}
		}()
		for {
			b, err := read()
			if err != nil {
				fail(err)
			}
			sum += binary.LittleEndian.Uint64(b)
			count++
			if t := atomic.LoadInt64(&target); t > 0 && count >= t {
				finish()
			}
		}
	}
}
