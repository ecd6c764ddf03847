// map: ns per lookup and per update on a hash map with an 8-byte key and a 64-byte value:
// tsbpf's BpfMap vs libbpf's bpf_map_lookup_elem/bpf_map_update_elem (bench/c/map.c).
import { execFileSync } from 'node:child_process';
import { BpfMap } from '../src/maps/map.js';
import { MapType } from '../src/uapi/bpf.js';
import { buildC, report } from './report.js';

const N = Number(process.env.N ?? 500_000);
const map = BpfMap.create({ type: MapType.HASH, keySize: 8, valueSize: 64, maxEntries: 1024, name: 'bench_map' });
const key = new Uint8Array(8);
const kv = new DataView(key.buffer);
const value = new Uint8Array(64).fill(7);
const out = new Uint8Array(64);
for (let i = 0; i < 1024; i++) {
  kv.setUint32(0, i, true);
  map.update(key, value);
}

function timeNs(f: (i: number) => void): number {
  for (let i = 0; i < 10_000; i++) f(i); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f(i);
  return Number(process.hrtime.bigint() - t0) / N;
}

const update = timeNs((i) => {
  kv.setUint32(0, i & 1023, true);
  map.update(key, value);
});
const lookup = timeNs((i) => {
  kv.setUint32(0, i & 1023, true);
  map.lookup(key, out);
});
map.close();
const [cLookup, cUpdate] = execFileSync(buildC('map'), [String(N)], { encoding: 'utf8' }).trim().split(' ').map(Number) as [number, number];
// The ratio is the worse of the two operations.
const worse = Math.max(lookup / cLookup, update / cUpdate);
report({
  name: 'map',
  ours: Math.round(lookup / cLookup >= update / cUpdate ? lookup : update),
  reference: Math.round(lookup / cLookup >= update / cUpdate ? cLookup : cUpdate),
  unit: 'ns/op',
  better: 'lower',
  referenceName: 'libbpf (C)',
  target: 2,
  lookupNs: Math.round(lookup),
  updateNs: Math.round(update),
  cLookupNs: Math.round(cLookup),
  cUpdateNs: Math.round(cUpdate),
  worseRatio: Math.round(worse * 1000) / 1000,
  ops: N,
});
