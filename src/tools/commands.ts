// The tools' commands for the CLI registry (src/cli/registry.ts): name, summary, and a lazy loader
// of the commander Command, so `tsbpf <tool>` loads only that tool.
import type { Command } from 'commander';

export interface ToolCommand {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const toolCommands: ToolCommand[] = [
  { name: 'tcpconnect', summary: 'trace outgoing TCP connects (IPv4, IPv6), as libbpf-tools tcpconnect', load: async () => (await import('./tcpconnect/cli.js')).tcpconnectCommand() },
  { name: 'execsnoop', summary: 'trace exec() with arguments, return code and parent PID', load: async () => (await import('./execsnoop/cli.js')).execsnoopCommand() },
  { name: 'opensnoop', summary: 'trace open()/openat()/openat2() with path, flags and result', load: async () => (await import('./opensnoop/cli.js')).opensnoopCommand() },
  { name: 'tcplife', summary: 'trace TCP sessions: lifetime, bytes in and out', load: async () => (await import('./tcplife/cli.js')).tcplifeCommand() },
  { name: 'tcpstates', summary: 'trace TCP state changes with time in each state', load: async () => (await import('./tcpstates/cli.js')).tcpstatesCommand() },
  { name: 'runqlat', summary: 'run queue latency histogram (all, per process, per thread)', load: async () => (await import('./runqlat/cli.js')).runqlatCommand() },
  { name: 'biolatency', summary: 'block I/O latency histogram (all, per disk, per flags)', load: async () => (await import('./biolatency/cli.js')).biolatencyCommand() },
  { name: 'syscount', summary: 'syscall counts and latency, per syscall or per process', load: async () => (await import('./syscount/cli.js')).syscountCommand() },
  { name: 'profile', summary: 'CPU profile by stack sampling; folded stacks and a flame graph SVG', load: async () => (await import('./profile/cli.js')).profileCommand() },
  { name: 'xdp-shield', summary: 'XDP DDoS shield: IPv4/IPv6 block/allow lists, per-source SYN and packet rate limits, live counters', load: async () => (await import('./xdp-shield/cli.js')).xdpShieldCommand() },
  { name: 'tc-limit', summary: 'rate-limit an interface with tc BPF: egress pacing (EDT) or ingress policing, per IP or per cgroup', load: async () => (await import('./tc-limit/cli.js')).tcLimitCommand() },
  { name: 'test-run', summary: 'run an XDP, tc or socket-filter program over a pcap with BPF_PROG_TEST_RUN; verdicts and counts', load: async () => (await import('./test-run/cli.js')).testRunCommand() },
];
