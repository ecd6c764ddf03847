// capture-filter: packets per second filtered from a large pcap file, `tsbpf capture -r FILE -w
// /dev/null EXPR` against `tcpdump -r FILE -w /dev/null EXPR`, whole processes (start-up, reading,
// filtering, writing the matches). Runs alternate between the tools; medians are reported.
// Last line: one JSON object (name, unit, results, ratios, target).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusFrames } from '../test/net/corpus.js';
import { pcapFileHeader, pcapRecord } from '../src/net/pcap.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'tools', 'capture', 'cli.js');
const PACKETS = Number(process.env.PACKETS ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 3);
const EXPRESSIONS = [
  'tcp port 80',
  'host 10.0.0.1 and udp',
  'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn',
  'vlan and ip',
  'net 192.168.0.0/16 or icmp6 or arp',
  'ip6 and not port 53',
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function makeFile(path: string): void {
  const frames = corpusFrames();
  const parts: Uint8Array[] = [pcapFileHeader()];
  for (let i = 0; i < PACKETS; i++) parts.push(pcapRecord({ sec: 1700000000 + Math.floor(i / 1000), nsec: (i % 1000) * 1000, data: frames[i % frames.length]! }));
  writeFileSync(path, Buffer.concat(parts));
}

function time(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
  try {
    const file = join(dir, 'big.pcap');
    makeFile(file);
    const results: Record<string, { tsbpf_pps: number; tcpdump_pps: number; ratio: number }> = {};
    for (const expr of EXPRESSIONS) {
      const a: number[] = [];
      const b: number[] = [];
      for (let k = 0; k < RUNS; k++) {
        a.push(time(process.execPath, [CLI.replace(/cli\.js$/, 'main.js'), '-q', '-r', file, '-w', '/dev/null', expr]));
        b.push(time('tcpdump', ['-r', file, '-w', '/dev/null', expr]));
      }
      const tsbpf = PACKETS / median(a);
      const tcpdump = PACKETS / median(b);
      results[expr] = { tsbpf_pps: Math.round(tsbpf), tcpdump_pps: Math.round(tcpdump), ratio: Math.round((tsbpf / tcpdump) * 1000) / 1000 };
      console.log(`${expr.padEnd(48)} tsbpf ${(tsbpf / 1e6).toFixed(2).padStart(6)} Mpps   tcpdump ${(tcpdump / 1e6).toFixed(2).padStart(6)} Mpps   ${results[expr]!.ratio}x`);
    }
    const ratios = Object.values(results).map((r) => r.ratio);
    const geo = Math.round(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length) * 1000) / 1000;
    console.log(JSON.stringify({ name: 'capture-filter', unit: 'packets/s', packets: PACKETS, runs: RUNS, results, ratios: { geomean: geo, min: Math.min(...ratios) }, target: { geomean: 1, min: 1 } }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
