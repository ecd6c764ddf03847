// The commands of `tsbpf`, each loaded only when it runs, so that a one-liner starts fast.
import { toolCommands, type ToolCommand } from '../tools/commands.js';

/** A command: name, summary, EXAMPLES for its --help, and a lazy builder of its commander Command. */
export type CommandEntry = ToolCommand;

export const commands: CommandEntry[] = [
  { name: 'run', summary: 'load an object, attach its programs, print trace_pipe and buffer records', examples: [["tsbpf run tool.bpf.o", "load, attach by SEC(), print trace_pipe and buffer records"], ["tsbpf run tool.bpf.o --duration 5 --dump-maps", "5 seconds, then every map's contents"], ["tsbpf run tool.bpf.o --prog handle_exec --json", "one program, JSON lines"]], load: async () => (await import('./run.js')).runCommand() },
  { name: 'trace-pipe', summary: 'print the kernel trace pipe (bpf_printk output)', load: async () => (await import('./trace-pipe.js')).tracePipeCommand() },
  { name: 'prog', summary: 'list and show loaded BPF programs', load: async () => (await import('./prog.js')).progCommand() },
  { name: 'map', summary: 'list and dump BPF maps', load: async () => (await import('./map.js')).mapCommand() },
  { name: 'btf', summary: 'dump BTF as C (vmlinux.h) or raw', load: async () => (await import('./btf.js')).btfCommand() },
  { name: 'compile', summary: 'compile a .bpf.c with clang and a tsbpf-generated vmlinux.h', load: async () => (await import('./compile.js')).compileCommand() },
  { name: 'gen', summary: 'generate TypeScript types and a typed loader from an object\'s BTF', examples: [["tsbpf gen types tool.bpf.o -o tool.gen.ts", "interfaces, constants and ToolObjects.load()"], ["tsbpf gen types tool.bpf.o --record events='struct event'", "name a ring buffer's record type"], ["tsbpf gen types tool.bpf.o --import-from ../lib/tsbpf.js", "import tsbpf from elsewhere"]], load: async () => (await import('./gen.js')).genCommand() },
  { name: 'disasm', summary: 'disassemble the programs of an object, with C source lines', load: async () => (await import('./disasm.js')).disasmCommand() },
  { name: 'trace', summary: 'run a bpftrace-style script, compiled by tsbpf straight to eBPF', examples: [["tsbpf trace 'tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, str(args->filename)) }'", "files opened"], ["tsbpf trace 'kprobe:do_nanosleep { @[comm] = count() }'", "count by process, print on Ctrl+C"], ["tsbpf trace 'kretprobe:vfs_read { @bytes = hist(retval) }'", "a histogram of read sizes"], ["tsbpf trace script.bt 42", "run a script file, with $1 = 42"]], load: async () => (await import('../script/cli.js')).traceCommand() },
  { name: 'capture', summary: "capture packets with tcpdump's filter language, compiled to an eBPF socket filter", examples: [["tsbpf capture -i eth0 tcp port 443", "packets to or from port 443 on eth0"], ["tsbpf capture -i any -c 10 icmp", "ten ICMP packets on every interface"], ["tsbpf capture -i eth0 -w out.pcap 'net 10.0.0.0/8 and not port 22'", "write to a pcap file"], ["tsbpf capture -r in.pcap -d 'udp and dst port 53'", "read a file, show the compiled program"]], load: async () => (await import('../tools/capture/cli.js')).captureProgram() },
  { name: 'vm', summary: "verify and run programs in tsbpf's userspace runtime (no kernel needed)", examples: [["tsbpf vm verify prog.bpf.o", "check an object with tsbpf's verifier"], ["tsbpf vm run filter.bpf.o --pcap in.pcap", "a verdict per packet, no kernel needed"]], load: async () => (await import('./vm.js')).vmCommand() },
  {
    name: 'completion',
    summary: 'print a completion script for bash, zsh or fish',
    examples: [['tsbpf completion bash > /etc/bash_completion.d/tsbpf', 'bash, for every user'], ['tsbpf completion zsh > "${fpath[1]}/_tsbpf"', 'zsh'], ['tsbpf completion fish > ~/.config/fish/completions/tsbpf.fish', 'fish']],
    load: async () => (await import('./completion.js')).completionCommand(),
  },
  { name: 'agent', summary: 'serve Prometheus/OpenMetrics metrics and OTLP events from tools, objects and scripts (YAML config)', load: async () => (await import('../agent/cli.js')).agentCommand() },
  ...toolCommands,
];
