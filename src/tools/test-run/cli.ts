// `tsbpf test-run OBJ.o --prog NAME --pcap FILE [--repeat N] [--json]`: one line per packet with
// the program's verdict, then the count of each verdict.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { testRunPcap, type TestRunReport } from './index.js';
import { pad } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { io, parseIntArg } from '../common/cli.js';
import { requirePrivileges, NETWORKING } from '../../command/privileges.js';

export function reportText(r: TestRunReport, o: { summary?: boolean } = {}): string {
  let s = `${pad('#', 6)} ${pad('LEN', 5)} ${pad('VERDICT', 18)} ${pad('NS', 6)}${o.summary ? ' PACKET' : ''}\n`;
  for (const p of r.packets) {
    const extra = p.error ? ` (${p.error})` : p.modified ? ` (packet modified: ${p.modified.length} bytes out)` : '';
    s += `${pad(p.index, 6)} ${pad(p.length, 5)} ${pad(p.verdict, 18)} ${pad(p.duration, 6)}${extra}\n`;
  }
  s += `\n${r.packets.length} packets through ${r.program} (${r.type}):\n`;
  for (const [v, n] of Object.entries(r.counts).sort((a, b) => b[1] - a[1])) s += `  ${pad(v, 18)} ${n}\n`;
  return s;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`test-run: cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function testRunCommand(): Command {
  return new Command('test-run')
    .description('Run an XDP, tc or socket-filter program over each packet of a pcap (BPF_PROG_TEST_RUN, or the VM with --vm) and print the verdicts')
    .argument('<object>', 'BPF object file (.o)')
    .requiredOption('--prog <name>', 'program name in the object')
    .requiredOption('--pcap <file>', 'pcap or pcapng file of Ethernet frames')
    .option('--repeat <n>', 'runs per packet (the duration is their average)', parseIntArg('repeat count', 1, 1_000_000))
    .option('--json', 'one JSON object per packet, then the counts')
    .option('--vm', "run on tsbpf's VM (its verifier and JIT) instead of the kernel: no privileges needed")
    .action((object: string, o: { prog: string; pcap: string; repeat?: number; json?: boolean; vm?: boolean }) => {
      if (!o.vm) requirePrivileges('test-run', NETWORKING);
      const pcap = readFile(o.pcap, 'pcap');
      const r = testRunPcap(readFile(object, 'object'), o.prog, pcap, { repeat: o.repeat, vm: o.vm });
      if (!o.json) {
        io.out(reportText(r));
        return;
      }
      for (const p of r.packets) {
        const { modified, ...rest } = p;
        io.out(toJson({ type: 'packet', ...rest, ...(modified ? { modifiedLength: modified.length } : {}) }) + '\n');
      }
      io.out(toJson({ type: 'counts', program: r.program, programType: r.type, packets: r.packets.length, counts: r.counts }) + '\n');
    });
}

