import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { BpfMap, UpdateFlags } from '../../src/maps/map.js';
import { bytes, lpmKey, u32, u64, type LpmKey } from '../../src/maps/codec.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { SyscallError } from '../../src/sys/errors.js';
import { possibleCpuCount } from '../../src/sys/cpus.js';
import { Program } from '../../src/kernel/program.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { countInArray, returnImm } from '../kernel/asm.js';

function created<T extends { id: number }>(ids: number[], m: T): T {
  ids.push(m.id);
  return m;
}

test('array map: typed get/set, bounds, keys, freeze, close leaves nothing', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using m = created(ids, BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, name: 'arr', key: u32, value: u64 }));
    assert.equal(m.get(2), 0n);
    m.set(2, 1234567890123n);
    assert.equal(m.get(2), 1234567890123n);
    assert.equal(m.get(4), undefined, 'out of range is "no such key"');
    assert.throws(() => m.set(4, 1n), (e: unknown) => e instanceof SyscallError && e.code === 'E2BIG');
    assert.throws(() => m.set(1, 1n, UpdateFlags.NOEXIST), (e: unknown) => e instanceof SyscallError && e.code === 'EEXIST');
    assert.deepEqual([...m.keys()], [0, 1, 2, 3]);
    assert.deepEqual([...m.entries()].map(([k, v]) => [k, v]), [[0, 0n], [1, 0n], [2, 1234567890123n], [3, 0n]]);
    assert.deepEqual([...m.entriesBatch(3)], [[0, 0n], [1, 0n], [2, 1234567890123n], [3, 0n]]);
    const info = m.info();
    assert.equal(info.keySize, 4);
    assert.equal(info.valueSize, 8);
    assert.equal(info.maxEntries, 4);
    assert.equal(info.name, 'arr');
    m.freeze();
    assert.throws(() => m.set(0, 1n), (e: unknown) => e instanceof SyscallError && e.code === 'EPERM');
    assert.equal(m.get(2), 1234567890123n, 'still readable when frozen');
  }
  await assertGone('map', ids);
});

test('hash map: raw and typed ops, NOEXIST/EXIST, delete, batch update/lookup/delete, full map', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using m = created(ids, BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1000, name: 'h', key: u32, value: u32 }));
    assert.equal(m.get(7), undefined);
    assert.equal(m.has(7), false);
    m.set(7, 70, UpdateFlags.NOEXIST);
    assert.throws(() => m.set(7, 71, UpdateFlags.NOEXIST), (e: unknown) => e instanceof SyscallError && e.code === 'EEXIST');
    assert.throws(() => m.set(8, 80, UpdateFlags.EXIST), (e: unknown) => e instanceof SyscallError && e.code === 'ENOENT');
    m.set(7, 71, UpdateFlags.EXIST);
    assert.equal(m.get(7), 71);
    assert.equal(m.has(7), true);
    assert.equal(m.delete(7), true);
    assert.equal(m.delete(7), false);

    const entries: [number, number][] = [];
    for (let i = 0; i < 600; i++) entries.push([i, i * 3]);
    assert.equal(m.setBatch(entries), 600);
    const got = new Map([...m.entriesBatch(64)]);
    assert.equal(got.size, 600);
    for (let i = 0; i < 600; i++) assert.equal(got.get(i), i * 3);
    const walked = new Map([...m.entries()]);
    assert.deepEqual(walked, got);
    assert.equal(m.deleteBatch([1, 2, 3]), 3);
    assert.equal(m.get(2), undefined);
    assert.equal(m.take(10), 30);
    assert.equal(m.get(10), undefined);
    const drained = [...m.drainBatch(100)];
    assert.equal(drained.length, 596);
    assert.equal([...m.keys()].length, 0);

    // raw bytes view of the same map
    const raw = m.as(bytes(4), bytes(4));
    raw.update(new Uint8Array([1, 0, 0, 0]), new Uint8Array([9, 0, 0, 0]));
    assert.equal(m.get(1), 9);
    assert.deepEqual(raw.lookup(new Uint8Array([1, 0, 0, 0])), new Uint8Array([9, 0, 0, 0]));
    assert.deepEqual(raw.nextKey(null), new Uint8Array([1, 0, 0, 0]));
    assert.throws(() => raw.lookup(new Uint8Array(3)), RangeError);
  }
  {
    using full = created(ids, BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 2, key: u32, value: u32 }));
    full.set(1, 1);
    full.set(2, 2);
    assert.throws(() => full.set(3, 3), (e: unknown) => e instanceof SyscallError && e.code === 'E2BIG');
  }
  await assertGone('map', ids);
});

test('per-CPU array and hash: one value per possible CPU', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  const n = possibleCpuCount();
  {
    using a = created(ids, BpfMap.create({ type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, key: u32, value: u32 }));
    assert.equal(a.cpus, n);
    assert.equal(a.perCpuStride, 8, 'values are rounded up to 8 bytes per CPU');
    const vals = Array.from({ length: n }, (_, i) => 100 + i);
    a.setPerCpu(1, vals);
    assert.deepEqual(a.getPerCpu(1), vals);
    assert.throws(() => a.get(1), TypeError);
    using h = created(ids, BpfMap.create({ type: MapType.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 8, key: u32, value: u64 }));
    h.setPerCpu(5, 7n);
    assert.deepEqual(h.getPerCpu(5), Array(n).fill(7n));
    assert.deepEqual([...h.entriesPerCpu()], [[5, Array(n).fill(7n)]]);
  }
  await assertGone('map', ids);
});

test('LRU hash evicts instead of failing when full', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using m = created(ids, BpfMap.create({ type: MapType.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 64, key: u32, value: u32 }));
    for (let i = 0; i < 1000; i++) m.set(i, i);
    const keys = [...m.keys()];
    assert.ok(keys.length <= 64, `kept ${keys.length}`);
    assert.ok(keys.length > 0);
    assert.equal(m.get(999), 999, 'the newest survives');
  }
  await assertGone('map', ids);
});

test('LPM trie: longest prefix match on IPv4 prefixes', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using m = created(ids, BpfMap.create<LpmKey, number>({ type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 16, key: lpmKey(4), value: u32 }));
    m.set({ prefixLen: 8, data: new Uint8Array([10, 0, 0, 0]) }, 8);
    m.set({ prefixLen: 24, data: new Uint8Array([10, 1, 2, 0]) }, 24);
    assert.equal(m.get({ prefixLen: 32, data: new Uint8Array([10, 1, 2, 3]) }), 24);
    assert.equal(m.get({ prefixLen: 32, data: new Uint8Array([10, 9, 9, 9]) }), 8);
    assert.equal(m.get({ prefixLen: 32, data: new Uint8Array([11, 0, 0, 1]) }), undefined);
    const keys = [...m.keys()].map((k) => `${[...k.data].join('.')}/${k.prefixLen}`).sort();
    assert.deepEqual(keys, ['10.0.0.0/8', '10.1.2.0/24']);
  }
  await assertGone('map', ids);
});

test('queue and stack: push, peek, pop order, empty', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  {
    using q = created(ids, BpfMap.create({ type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 8, value: u32, key: bytes(0) }));
    using s = created(ids, BpfMap.create({ type: MapType.STACK, keySize: 0, valueSize: 4, maxEntries: 8, value: u32, key: bytes(0) }));
    for (const v of [1, 2, 3]) {
      q.push(v);
      s.push(v);
    }
    assert.equal(q.peek(), 1);
    assert.equal(s.peek(), 3);
    assert.deepEqual([q.pop(), q.pop(), q.pop(), q.pop()], [1, 2, 3, undefined]);
    assert.deepEqual([s.pop(), s.pop(), s.pop(), s.pop()], [3, 2, 1, undefined]);
  }
  await assertGone('map', ids);
});

test('map-in-map (array and hash of maps), prog array, perf event array, ringbuf create', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  const progIds: number[] = [];
  {
    using inner = created(ids, BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, key: u32, value: u32 }));
    using inner2 = created(ids, BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, key: u32, value: u32 }));
    using aom = created(ids, BpfMap.create({ type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMapFd: inner.fd, key: u32, value: u32 }));
    aom.set(0, inner.fd);
    assert.equal(aom.get(0), inner.id, 'a map-in-map lookup returns the inner map id');
    using hom = created(ids, BpfMap.create({ type: MapType.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMapFd: inner.fd, key: u32, value: u32 }));
    hom.set(42, inner2.fd);
    assert.equal(hom.get(42), inner2.id);

    using prog = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: returnImm(0), license: 'GPL' });
    progIds.push(prog.id);
    using pa = created(ids, BpfMap.create({ type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, key: u32, value: u32 }));
    pa.set(3, prog.fd);
    assert.equal(pa.get(3), prog.id);

    using pea = created(ids, BpfMap.create({ type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: possibleCpuCount() }));
    assert.equal(pea.info().type, MapType.PERF_EVENT_ARRAY);
    using rb = created(ids, BpfMap.create({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 * 4, key: bytes(0), value: bytes(0) }));
    assert.equal(rb.info().maxEntries, 4096 * 4);
  }
  await assertGone('map', ids);
  await assertGone('prog', progIds);
});

test('pin, fromPin, fromId; a program updates the map and user space sees it', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  const progIds: number[] = [];
  const dir = mkdtempSync('/sys/fs/bpf/tsbpf-test-');
  try {
    using m = created(ids, BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: 'cnt', key: u32, value: u64 }));
    m.pin(`${dir}/cnt`);
    using again = BpfMap.fromPin(`${dir}/cnt`).as(u32, u64);
    using byId = BpfMap.fromId(m.id).as(u32, u64);
    using p = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: countInArray(m.fd), license: 'GPL', name: 'count' });
    progIds.push(p.id);
    p.testRun(new Uint8Array(32), { repeat: 5 });
    assert.equal(again.get(0), 5n);
    assert.equal(byId.get(0), 5n);
    assert.equal(again.name, 'cnt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assertGone('map', ids);
  await assertGone('prog', progIds);
});

test('creating an impossible map explains itself', (t) => {
  if (!needsRoot(t)) return;
  assert.throws(
    () => BpfMap.create({ type: MapType.ARRAY, keySize: 8, valueSize: 4, maxEntries: 1 }),
    (e: unknown) => e instanceof SyscallError && e.code === 'EINVAL' && /BPF_MAP_CREATE ARRAY/.test(e.message) && e.hint !== undefined,
  );
});

test('BTF-typed map: created with BTF ids, values decoded to objects via withBtf', async (t) => {
  if (!needsRoot(t)) return;
  const { BtfBuilder } = await import('../../src/btf/marshal.js');
  const { btfLoad } = await import('../../src/sys/bpf.js');
  const { closeFd } = await import('../../src/sys/fds.js');
  const b = new BtfBuilder();
  const u32t = b.int('unsigned int', 4);
  const ev = b.struct('event', [{ name: 'pid', type: u32t }, { name: 'comm', type: b.array(b.int('char', 1, true), 16) }]);
  const btf = b.build();
  const btfFd = btfLoad(b.marshal());
  const ids: number[] = [];
  try {
    using raw = created(ids, BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 20, maxEntries: 8, name: 'typed', btfFd, btfKeyTypeId: u32t, btfValueTypeId: ev }));
    const info = raw.info();
    assert.ok(info.btfId > 0);
    assert.equal(info.btfKeyTypeId, u32t);
    assert.equal(info.btfValueTypeId, ev);
    const m = raw.withBtf<number, { pid: number; comm: string }>(btf, u32t, ev);
    m.set(7, { pid: 1234, comm: 'bash' });
    assert.deepEqual(m.get(7), { pid: 1234, comm: 'bash' });
    assert.deepEqual([...m.entries()], [[7, { pid: 1234, comm: 'bash' }]]);
  } finally {
    closeFd(btfFd);
  }
  await assertGone('map', ids);
});

test('pinning outside bpffs or twice explains itself', (t) => {
  if (!needsRoot(t)) return;
  using m = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(() => m.pin('/tmp/not-bpffs-pin'), (e: unknown) => e instanceof SyscallError && /bpffs/.test(e.message));
  const dir = mkdtempSync('/sys/fs/bpf/tsbpf-test-');
  try {
    m.pin(`${dir}/m`);
    assert.throws(() => m.pin(`${dir}/m`), (e: unknown) => e instanceof SyscallError && e.code === 'EEXIST' && /already pinned/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
