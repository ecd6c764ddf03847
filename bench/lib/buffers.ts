// The harness of the `ringbuf` and `perfbuf` benchmarks: one BPF object (bench/c/events.bpf.c), one
// producer (bench/c/producer.c) and three consumers in processes of their own, each a small program
// on the map the benchmark pins — tsbpf (bench/lib/ringbuf-consumer.ts), cilium/ebpf
// (bench/go/ringbuf) and libbpf (bench/c/ringbuf.c) — so what is measured is the consumer alone:
//
//   drain: the producer fills the buffer first (nothing reads it meanwhile), then the consumer is
//          told to read the N records, flat out;
//   paced: the consumer follows the buffer while the producer runs at a fixed rate that every
//          consumer keeps up with (a record lost fails the run).
// Both are measured as the consumer's CPU time per record, its whole process's (getrusage: user +
// system, every thread): records per consumer CPU-second is the figure compared. CPU time, not
// wall time: a drain lasts tens of ms, and on a shared machine one preemption moves its wall time
// by a third; a paced consumer's wall time is the producer's.
//
// Every record carries a sequence number and every consumer reports their sum: a record lost or
// read twice fails the run. Rounds rotate the consumers' order so that a change in the machine's
// load falls on each alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Collection } from '../../src/kernel/collection.js';
import { parseObject } from '../../src/object/load-spec.js';
import { ensureBpffs } from '../../src/sys/mounts.js';
import { buildC, root } from '../report.js';
import { buildBpf } from './bpf.js';
import { buildGo } from './go.js';
import { spread, type Spread } from './rounds.js';

export type Kind = 'ring' | 'perf';
/** tsbpf: consume() (coalescing wakeups, its default); -eager: every wakeup at once; -iterator: events() */
export type Consumer = 'tsbpf' | 'cilium' | 'libbpf' | 'tsbpf-eager' | 'tsbpf-iterator';

export interface Condition {
  kind: Kind;
  /** record bytes */
  size: number;
  mode: 'drain' | 'paced';
  /** producer threads */
  producers: number;
  /** records per second, all producers together (paced) */
  rate?: number;
  /** records to fill the buffer with (drain) */
  records?: number;
}

export interface RunResult {
  records: number;
  wallNs: number;
  cpuNs: number;
  /** records per consumer CPU-second */
  figure: number;
}

/** The buffer each consumer maps: 64 MiB (ring) or 64 MiB per CPU (perf), so a drain's fill fits. */
export const BUFFER_BYTES = 64 << 20;
const PAGE = 4096;
const DRAIN_BATCHES = Math.max(2, Number(process.env.DRAIN_BATCHES ?? 4));

/** A run in which the producer lost records: the consumer fell behind. */
export class LostRecords extends Error {}

export const label = (c: Condition): string =>
  `${c.kind} ${c.mode} ${c.size >= 1024 ? `${c.size / 1024} KiB` : `${c.size} B`}${c.mode === 'paced' ? `, ${c.producers} producer${c.producers > 1 ? 's' : ''} at ${c.rate}/s` : ''}`;

/** A line-oriented child process: lines() waits for the next line of its stdout. */
function child(cmd: string, args: string[]): { p: ChildProcess; line: () => Promise<string>; exited: Promise<number | null> } {
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let buf = '';
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const exited = new Promise<number | null>((r) => p.on('close', r));
  const line = (): Promise<string> => {
    const l = lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise<string>((res, rej) => {
      waiting.push(res);
      void exited.then((code) => rej(new Error(`${cmd} ${args.join(' ')} exited (${code}) before printing a line`)));
    });
  };
  return { p, line, exited };
}

export class BufferBench {
  private readonly producerBin = buildC('producer');
  private readonly commands: Record<Consumer, (kind: Kind, pin: string) => [string, string[]]>;

  constructor() {
    const go = buildGo('ringbuf');
    const c = buildC('ringbuf');
    const ts = join(root, 'dist/bench/lib/ringbuf-consumer.js');
    const pages = String(BUFFER_BYTES / PAGE);
    this.commands = {
      tsbpf: (kind, pin) => [process.execPath, [ts, kind, pin, pages]],
      'tsbpf-eager': (kind, pin) => [process.execPath, [ts, `${kind}-eager`, pin, pages]],
      'tsbpf-iterator': (kind, pin) => [process.execPath, [ts, kind === 'ring' ? 'ring-iter' : kind, pin, pages]],
      cilium: (kind, pin) => [go, [kind, pin, String(BUFFER_BYTES)]],
      libbpf: (kind, pin) => [c, [kind, pin, pages]],
    };
  }

  /**
   * Load the program of a condition. The producer's TGID is a load-time constant: each run starts
   * its producer first (paused on stdin), then loads the object for it.
   */
  private load(c: Condition, producerPid: number): { coll: Collection; pin: string; close(): void } {
    const prog = `${c.kind}_${c.size >= 1024 ? `${c.size / 1024}k` : c.size}`;
    const spec = parseObject(readFileSync(buildBpf('events')), 'events');
    for (const m of spec.maps) if (m.name === 'ring') m.maxEntries = BUFFER_BYTES;
    const coll = Collection.fromSpec(spec, { programs: [prog], constants: { targ_tgid: producerPid } });
    const pin = join(ensureBpffs(), `tsbpf-bench-${c.kind}-${process.pid}`);
    rmSync(pin, { force: true });
    coll.map(c.kind).pin(pin);
    coll.attach();
    return { coll, pin, close: () => (rmSync(pin, { force: true }), coll.close()) };
  }

  /**
   * One run of one consumer under one condition. A drain fills and drains the buffer DRAIN_BATCHES
   * times in the same consumer process and keeps the fastest but the first: what a long-running
   * consumer does, its code warm (a drain of 1 KiB records lasts a few ms, as long as a JIT's
   * warm-up), and of those the least disturbed by the rest of the machine.
   */
  async run(c: Condition, who: Consumer): Promise<RunResult> {
    const paced = c.mode === 'paced';
    const producer = child(this.producerBin, [String(c.producers)]);
    const obj = this.load(c, producer.p.pid!);
    const stats = obj.coll.map('stats');
    let seen = 0;
    /** one producer run: the records it made (and none lost), and the first one's sequence number */
    const produce = async (line: string, consumer: string): Promise<{ records: number; first: number }> => {
      producer.p.stdin!.write(line);
      const calls = Number(await producer.line());
      const produced = Number(stats.get(0)) - seen;
      const dropped = Number(stats.get(1));
      if (produced !== calls) throw new Error(`${label(c)}: ${calls} calls made ${produced} records (another process in the producer's TGID?)`);
      if (dropped) throw new LostRecords(`${label(c)}, ${consumer}: ${dropped} of ${produced} records lost (the consumer did not keep up)`);
      const first = seen;
      seen += produced;
      return { records: produced, first };
    };
    const check = (out: string, r: { records: number; first: number }): RunResult => {
      const [count, sum, wallNs, cpuNs] = out.split(' ');
      const n = BigInt(r.records);
      if (Number(count) !== r.records || BigInt(sum!) !== n * BigInt(r.first) + (n * (n - 1n)) / 2n) {
        throw new Error(`${label(c)}, ${who}: read ${count} records (sum ${sum}) of ${r.records}`);
      }
      const wall = Number(wallNs);
      const cpu = Number(cpuNs);
      return { records: r.records, wallNs: wall, cpuNs: cpu, figure: r.records / (Math.max(cpu, 1000) / 1e9) };
    };
    try {
      const [cmd, args] = this.commands[who](c.kind, obj.pin);
      const consumer = child(cmd, args);
      const timeout = setTimeout(() => consumer.p.kill(), 120_000);
      try {
        if ((await consumer.line()) !== 'ready') throw new Error(`${who}: no "ready"`);
        if (paced) {
          consumer.p.stdin!.write('go\n');
          const r = await produce(`${c.rate} ${Number(process.env.SECONDS ?? 4)} 0\n`, who);
          consumer.p.stdin!.write(`${r.records}\n`);
          return check(await consumer.line(), r);
        }
        let best: RunResult | undefined;
        for (let b = 0; b < DRAIN_BATCHES; b++) {
          const r = await produce(`0 60 ${c.records}\n`, who);
          consumer.p.stdin!.write(`drain ${r.records}\n`);
          const res = check(await consumer.line(), r);
          if (b > 0 && (!best || res.figure > best.figure)) best = res;
        }
        return best!;
      } finally {
        clearTimeout(timeout);
        consumer.p.kill();
        await consumer.exited;
      }
    } finally {
      producer.p.stdin!.end();
      producer.p.kill();
      await producer.exited;
      obj.close();
    }
  }

  /**
   * `rounds` rounds of every condition with every consumer; each round runs the consumers in a
   * rotated order. Returns figure[condition][consumer][round].
   */
  async measure(conditions: Condition[], consumers: Consumer[], rounds: number, log = (s: string) => console.log(s)): Promise<Map<Condition, Record<string, number[]>>> {
    const out = new Map<Condition, Record<string, number[]>>();
    // the eager tsbpf consumer differs from the default one only in following a buffer
    const who = (c: Condition): Consumer[] => consumers.filter((w) => c.mode === 'paced' || w !== 'tsbpf-eager');
    for (const c of conditions) out.set(c, Object.fromEntries(who(c).map((w) => [w, [] as number[]])));
    for (let r = 0; r < rounds; r++) {
      for (const c of conditions) {
        const list = who(c);
        const order = list.map((_, i) => list[(i + r) % list.length]!);
        const row: string[] = [];
        for (const who of order) {
          // a record lost means the consumer was starved (the machine is shared): run it again
          let res: RunResult | undefined;
          for (let attempt = 1; !res; attempt++) {
            try {
              res = await this.run(c, who);
            } catch (e) {
              if (!(e instanceof LostRecords) || attempt >= 3) throw e;
              log(`${(e as Error).message}: again`);
            }
          }
          out.get(c)![who]!.push(res.figure);
          row.push(`${who} ${fmtRate(res.figure)}`);
        }
        log(`round ${r + 1}/${rounds} ${label(c)}: ${row.join(', ')}`);
      }
    }
    return out;
  }
}

export const fmtRate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

export interface ConditionSummary {
  condition: string;
  unit: string;
  figures: Record<string, Spread>;
  /** tsbpf / peer, per round (same round, so the same load) */
  ratios: Record<string, Spread>;
}

export function summarize(c: Condition, figures: Record<string, number[]>): ConditionSummary {
  const ts = figures.tsbpf!;
  const ratios: Record<string, Spread> = {};
  for (const [who, xs] of Object.entries(figures)) if (who !== 'tsbpf') ratios[who] = spread(ts.map((x, i) => x / xs[i]!));
  return {
    condition: label(c),
    unit: 'records per consumer CPU-second',
    figures: Object.fromEntries(Object.entries(figures).map(([w, xs]) => [w, spread(xs)])),
    ratios,
  };
}
