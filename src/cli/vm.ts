// tsbpf vm verify|run: tsbpf's own userspace runtime (verifier, interpreter, JIT to WebAssembly), no
// kernel and no privileges needed. The logic is in src/cli/vm-commands.ts (pure); this reads files.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { stdout } from '../sys/stdout.js';
import { vmRunCommand, vmVerifyCommand, type CommandResult } from './vm-commands.js';

function readInput(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function finish(r: CommandResult): void {
  if (r.exitCode === 2) process.stderr.write(r.output.replace(/^error: /m, 'tsbpf: '));
  else stdout().write(r.output);
  process.exitCode = r.exitCode;
}

export function vmCommand(): Command {
  const cmd = new Command('vm').description("tsbpf's userspace eBPF runtime: verify and run programs without a kernel");
  cmd.command('verify').description('verify programs with tsbpf\'s verifier (exit 0 accept, 1 reject)')
    .argument('<prog>', 'BPF object, raw bytecode (binary or hex text) or assembly text')
    .option('--prog <name>', 'only this program of an object')
    .option('--type <type>', 'program type for raw programs: xdp, socket, tc, kprobe, tracepoint, raw_tp, none')
    .option('--verbose', 'register states of the instructions processed')
    .action((file: string, o: { prog?: string; type?: string; verbose?: boolean }) => finish(vmVerifyCommand({ prog: readInput(file), name: o.prog, type: o.type, verbose: o.verbose })));
  cmd.command('run').description('run a program; prints r0 in hex (or a verdict per packet with --pcap)')
    .argument('<prog>', 'BPF object, raw bytecode (binary or hex text) or assembly text')
    .option('--prog <name>', 'program name in an object')
    .option('--type <type>', 'program type for raw programs')
    .option('--mem <hex>', 'memory r1 points at (r2 holds its length)')
    .option('--pcap <file>', 'run an XDP, tc or socket-filter program over each packet of a pcap file')
    .option('--engine <engine>', 'interp or jit', 'jit')
    .option('--no-verify', 'run without verifying first')
    .action((file: string, o: { prog?: string; type?: string; mem?: string; pcap?: string; engine: string; verify: boolean }) => {
      if (o.engine !== 'interp' && o.engine !== 'jit') throw new Error(`vm run: --engine must be interp or jit, not '${o.engine}'`);
      finish(vmRunCommand({ prog: readInput(file), name: o.prog, type: o.type, mem: o.mem, pcap: o.pcap ? readInput(o.pcap) : undefined, engine: o.engine, verify: o.verify }));
    });
  return cmd;
}
