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
];
