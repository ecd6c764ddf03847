// map: CPU time per operation on a hash map (8-byte keys, 64-byte values) — tsbpf's BpfMap against
// cilium/ebpf's Map (the peer; goal ≤ 1.2× its time; bench/go/map) and libbpf (bench/c/map.c):
// update, lookup (keys in a scattered order), batch lookup of the whole map and batch update
// (per entry), on a map of ENTRIES entries (default 1024), filled first. CPU time (user + system of
// the process), not wall time: what a syscall costs the caller, whatever else the machine runs.
// Rounds alternate the three sides (each round a fresh map and process for the references, so each
// pays its own first-touch costs); the ratio is the geometric mean over the four operations of
// tsbpf / cilium, per round, refused when the rounds disagree by more than 15 %. The curve drawn
// in the report: the same against the map's size (CURVE=0 skips it).
import { execFileSync } from 'node:child_process';
import { BpfMap } from '../src/maps/map.js';
import { MapType } from '../src/uapi/bpf.js';
import { buildC, report } from './report.js';
import { buildGo, ciliumVersion } from './lib/go.js';
import { geomean, spread, waitQuiet } from './lib/rounds.js';

const OPS = Number(process.env.OPS ?? 50_000);
const ENTRIES = Number(process.env.ENTRIES ?? 1024);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const BATCH = 256;
const OPERATIONS = ['update', 'lookup', 'batchLookup', 'batchUpdate'] as const;
type Op = (typeof OPERATIONS)[number];
type Times = Record<Op, number>;

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** tsbpf's side, in this process: the raw byte API (lookup/update, lookupBatch/updateBatch into and from caller buffers), as the references use theirs. */
function tsbpf(entries: number, ops: number): Times {
  const map = BpfMap.create({ type: MapType.HASH, keySize: 8, valueSize: 64, maxEntries: entries, name: 'bench_map' });
  try {
    const key = new Uint8Array(8);
    const kv = new DataView(key.buffer);
    const value = new Uint8Array(64).fill(7);
    const out = new Uint8Array(64);
    for (let i = 0; i < entries; i++) {
      kv.setUint32(0, i, true);
      map.update(key, value);
    }
    // the same scattered order on every side: 7919 is prime, so i*7919 mod N visits every key
    const keyAt = (i: number): number => (i * 7919) % entries;
    const time = (f: () => number): number => {
      const t = cpuNs();
      const n = f();
      return (cpuNs() - t) / n;
    };
    // V8 compiles the loops before they are timed (the references are compiled ahead of time)
    for (let i = 0; i < 2000; i++) {
      kv.setUint32(0, keyAt(i), true);
      map.update(key, value);
      map.lookup(key, out);
    }
    const update = time(() => {
      for (let i = 0; i < ops; i++) {
        kv.setUint32(0, keyAt(i), true);
        map.update(key, value);
      }
      return ops;
    });
    const lookup = time(() => {
      for (let i = 0; i < ops; i++) {
        kv.setUint32(0, keyAt(i), true);
        map.lookup(key, out);
      }
      return ops;
    });
    const keys = new Uint8Array(8 * BATCH);
    const kd = new DataView(keys.buffer);
    const values = new Uint8Array(64 * BATCH).fill(7);
    let cursorIn = new Uint8Array(8);
    let cursorOut = new Uint8Array(8);
    const batchLookup = time(() => {
      let read = 0;
      while (read < ops) {
        for (let first = true; ; first = false) {
          const r = map.lookupBatch(keys, values, first ? null : cursorIn, cursorOut);
          read += r.count;
          if (r.done) break;
          [cursorIn, cursorOut] = [cursorOut, cursorIn];
        }
      }
      return read;
    });
    const batchUpdate = time(() => {
      let written = 0;
      while (written < ops) {
        for (let j = 0; j < BATCH; j++) kd.setUint32(j * 8, keyAt(written + j), true);
        written += map.updateBatch(keys, values);
      }
      return written;
    });
    return { update, lookup, batchLookup, batchUpdate };
  } finally {
    map.close();
  }
}

function external(bin: string, entries: number, ops: number): Times {
  const [update, lookup, batchLookup, batchUpdate] = execFileSync(bin, [String(entries), String(ops)], { encoding: 'utf8' }).trim().split(' ').map(Number) as number[];
  return { update: update!, lookup: lookup!, batchLookup: batchLookup!, batchUpdate: batchUpdate! };
}

const sides = { tsbpf: (e: number, n: number) => tsbpf(e, n), cilium: ((b) => (e: number, n: number) => external(b, e, n))(buildGo('map')), libbpf: ((b) => (e: number, n: number) => external(b, e, n))(buildC('map')) };
type Side = keyof typeof sides;
const names = Object.keys(sides) as Side[];

/** rounds × sides at one size, the sides' order rotating: times[side][op][round] */
function measure(entries: number, rounds: number): Record<Side, Record<Op, number[]>> {
  const out = Object.fromEntries(names.map((s) => [s, Object.fromEntries(OPERATIONS.map((o) => [o, [] as number[]]))])) as Record<Side, Record<Op, number[]>>;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const side = names[(k + r) % names.length]!;
      const t = sides[side](entries, OPS);
      for (const o of OPERATIONS) out[side][o].push(t[o]);
    }
    console.log(`${entries} entries, round ${r + 1}/${rounds}: ` +
      names.map((s) => `${s} ${OPERATIONS.map((o) => Math.round(out[s][o][r]!)).join('/')}`).join(', ') + ' ns (update/lookup/batch lookup/batch update)');
  }
  return out;
}

const load = await waitQuiet();
const main = measure(ENTRIES, ROUNDS);
// per round: the geometric mean over the operations of tsbpf / peer
const roundRatios = (peer: Side): number[] => Array.from({ length: ROUNDS }, (_, r) => geomean(OPERATIONS.map((o) => main.tsbpf[o][r]! / main[peer][o][r]!)));
const perOp = Object.fromEntries(OPERATIONS.map((o) => [o, {
  ns: Object.fromEntries(names.map((s) => [s, spread(main[s][o])])),
  vsCilium: spread(main.tsbpf[o].map((x, r) => x / main.cilium[o][r]!)),
  vsLibbpf: spread(main.tsbpf[o].map((x, r) => x / main.libbpf[o][r]!)),
}]));

let curve: unknown;
if (process.env.CURVE !== '0') {
  const sizes = [256, 4096, 65536, 1 << 20];
  const m = sizes.map((e) => measure(e, 3));
  curve = Object.fromEntries(OPERATIONS.map((o) => [o, {
    x: 'entries',
    y: `ns per ${o === 'batchLookup' || o === 'batchUpdate' ? 'entry' : 'operation'} (CPU)`,
    series: Object.fromEntries(names.map((s) => [s, sizes.map((e, i) => ({ x: e, ...spread(m[i]![s][o]) }))])),
  }]));
}

report({
  name: 'map',
  ours: Math.round(geomean(OPERATIONS.map((o) => perOp[o]!.ns.tsbpf!.median))),
  reference: Math.round(geomean(OPERATIONS.map((o) => perOp[o]!.ns.cilium!.median))),
  unit: 'CPU ns/op (geomean of update, lookup, batch lookup, batch update)',
  better: 'lower',
  referenceName: `cilium/ebpf ${ciliumVersion()} (Go)`,
  target: 1.2,
  roundRatios: roundRatios('cilium'),
  vsLibbpf: spread(roundRatios('libbpf')),
  entries: ENTRIES,
  opsPerRound: OPS,
  rounds: ROUNDS,
  loadAverageAtStart: load,
  operations: perOp,
  curve,
});
