// The commands of `tsbpf`, each loaded only when it runs, so that a one-liner starts fast.
import type { Command } from 'commander';
import { toolCommands } from '../tools/commands.js';

export interface CommandEntry {
  name: string;
  summary: string;
  /** Builds the commander Command; imported lazily. */
  load: () => Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'run', summary: 'load an object, attach its programs, print trace_pipe and buffer records', load: async () => (await import('./run.js')).runCommand() },
  { name: 'trace-pipe', summary: 'print the kernel trace pipe (bpf_printk output)', load: async () => (await import('./trace-pipe.js')).tracePipeCommand() },
  { name: 'prog', summary: 'list and show loaded BPF programs', load: async () => (await import('./prog.js')).progCommand() },
  { name: 'map', summary: 'list and dump BPF maps', load: async () => (await import('./map.js')).mapCommand() },
  { name: 'btf', summary: 'dump BTF as C (vmlinux.h) or raw', load: async () => (await import('./btf.js')).btfCommand() },
  { name: 'compile', summary: 'compile a .bpf.c with clang and a tsbpf-generated vmlinux.h', load: async () => (await import('./compile.js')).compileCommand() },
  { name: 'disasm', summary: 'disassemble the programs of an object, with C source lines', load: async () => (await import('./disasm.js')).disasmCommand() },
  { name: 'trace', summary: 'run a bpftrace-style script, compiled by tsbpf straight to eBPF', load: async () => (await import('../script/run/cli.js')).traceCommand() },
  { name: 'capture', summary: "capture packets with tcpdump's filter language, compiled to an eBPF socket filter", load: async () => (await import('../tools/capture/cli.js')).captureProgram() },
  { name: 'vm', summary: "verify and run programs in tsbpf's userspace runtime (no kernel needed)", load: async () => (await import('./vm.js')).vmCommand() },
  { name: 'agent', summary: 'serve Prometheus/OpenMetrics metrics and OTLP events from tools, objects and scripts (YAML config)', load: async () => (await import('../agent/cli.js')).agentCommand() },
  ...toolCommands,
];
