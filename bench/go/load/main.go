// Reference for the `load` benchmark: cilium/ebpf opens, loads and attaches an object RUNS times in
// one process: LoadCollectionSpec + NewCollection (CO-RE against the kernel's BTF, which cilium/ebpf
// parses once per process, as tsbpf does) + a link per program, by its section (cilium/ebpf has no
// auto-attach: tracepoint/GROUP/NAME, raw_tp/NAME, tp_btf/NAME are the ones the object uses).
// Prints the microseconds of each run (detach and close are not timed, as on the other sides).
// The kernel's BTF is read and parsed in the first run (sanitize.go says why it is not
// btf.LoadKernelSpec's); later runs reuse it, as cilium/ebpf's own cache does.
//
//	go-load OBJECT RUNS
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func attach(sec string, prog *ebpf.Program) (link.Link, error) {
	parts := strings.Split(sec, "/")
	switch parts[0] {
	case "tracepoint", "tp":
		return link.Tracepoint(parts[1], parts[2], prog, nil)
	case "raw_tp", "raw_tracepoint":
		return link.AttachRawTracepoint(link.RawTracepointOptions{Name: parts[1], Program: prog})
	case "tp_btf", "fentry", "fexit":
		return link.AttachTracing(link.TracingOptions{Program: prog})
	}
	return nil, fmt.Errorf("section %s: not handled here", sec)
}

func main() {
	runs, _ := strconv.Atoi(os.Args[2])
	out := make([]string, 0, runs)
	var kernel *btf.Spec
	for i := 0; i < runs; i++ {
		start := time.Now()
		if kernel == nil {
			raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
			must(err)
			must(sanitize(raw))
			kernel, err = btf.LoadSpecFromReader(bytes.NewReader(raw))
			must(err)
		}
		spec, err := ebpf.LoadCollectionSpec(os.Args[1])
		must(err)
		coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: kernel}})
		must(err)
		var links []link.Link
		for name, p := range spec.Programs {
			l, err := attach(p.SectionName, coll.Programs[name])
			must(err)
			links = append(links, l)
		}
		out = append(out, fmt.Sprintf("%.1f", float64(time.Since(start).Nanoseconds())/1e3))
		for _, l := range links {
			l.Close()
		}
		coll.Close()
	}
	fmt.Println(strings.Join(out, " "))
}
