import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { u32, u64 } from '../../src/maps/codec.js';
import { attachUprobe, resolveLibrary, uprobeTarget } from '../../src/link/kprobe.js';
import { findInLdCache, parseLdCache, LdCacheError } from '../../src/link/ldcache.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { DW, Helper, W, add64Imm, atomicAdd, call, exit, jneImm, ldMapFd, mov64Imm, mov64Reg, st } from '../kernel/asm.js';
import { runTarget, targetBinary } from './target.js';

function counting(counterFd: number): Program {
  return Program.load({
    type: ProgramType.KPROBE,
    license: 'GPL',
    name: 'uprobe_count',
    instructions: [
      st(W, 10, -4, 0),
      ...ldMapFd(1, counterFd),
      mov64Reg(2, 10),
      add64Imm(2, -4),
      call(Helper.map_lookup_elem),
      jneImm(0, 0, 2),
      mov64Imm(0, 0),
      exit(),
      mov64Imm(1, 1),
      atomicAdd(DW, 0, 1, 0),
      mov64Imm(0, 0),
      exit(),
    ],
  });
}

test('uprobe and uretprobe on a function of a compiled binary count its calls', async (t) => {
  if (!needsRoot(t)) return;
  const bin = targetBinary();
  const maps: number[] = [], progs: number[] = [];
  {
    using entry = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, key: u32, value: u64 });
    using ret = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, key: u32, value: u64 });
    maps.push(entry.id, ret.id);
    using p1 = counting(entry.fd);
    using p2 = counting(ret.fd);
    progs.push(p1.id, p2.id);
    const target = uprobeTarget({ path: bin, symbol: 'tsbpf_target' });
    assert.ok(target.offset > 0);
    using _l1 = attachUprobe(p1, { path: bin, symbol: 'tsbpf_target' });
    using _l2 = attachUprobe(p2, { path: bin, symbol: 'tsbpf_target', retprobe: true });
    await runTarget('call', 9);
    assert.equal(entry.get(0), 9n);
    assert.equal(ret.get(0), 9n);
    // a process-filtered uprobe ignores other processes
    using p3 = counting(entry.fd);
    progs.push(p3.id);
    entry.set(0, 0n);
    _l1.close();
    using _l3 = attachUprobe(p3, { path: bin, symbol: 'tsbpf_target', pid: process.pid });
    await runTarget('call', 4);
    assert.equal(entry.get(0), 0n);
  }
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

test('uprobe on a libc function by library name, only in one process', async (t) => {
  if (!needsRoot(t)) return;
  const maps: number[] = [], progs: number[] = [];
  {
    using count = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, key: u32, value: u64 });
    maps.push(count.id);
    using prog = counting(count.fd);
    progs.push(prog.id);
    let link: ReturnType<typeof attachUprobe> | undefined;
    try {
      // The child calls libc's syscall() once per getpid; attach with its pid before it starts.
      await runTarget('getpid', 6, (pid) => {
        link = attachUprobe(prog, { library: 'c', symbol: 'syscall', pid });
      });
    } finally {
      link?.close();
    }
    assert.equal(count.get(0), 6n);
  }
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

test('a missing symbol or file is a clear error', (t) => {
  if (!needsRoot(t)) return;
  using p = Program.load({ type: ProgramType.KPROBE, license: 'GPL', instructions: [mov64Imm(0, 0), exit()] });
  assert.throws(() => attachUprobe(p, { path: targetBinary(), symbol: 'no_such_function' }), /no_such_function/);
  assert.throws(() => attachUprobe(p, { path: '/nonexistent/bin', offset: 0x1000 }), /ENOENT/);
  assert.throws(() => attachUprobe(p, { library: 'no-such-lib-xyz', symbol: 'x' }), /find library no-such-lib-xyz/);
});

test('libraries resolve through /etc/ld.so.cache', () => {
  const libc = resolveLibrary('c');
  assert.match(libc, /\/libc\.so\.6$/);
  assert.equal(resolveLibrary('libc.so.6'), libc);
  assert.equal(resolveLibrary('/x/y.so'), '/x/y.so');
  const off = uprobeTarget({ library: 'c', symbol: 'malloc' }).offset;
  assert.ok(off > 0);
});

test('ld.so.cache parser: real cache, and truncated/corrupt input gives LdCacheError, never a crash', () => {
  const bytes = new Uint8Array(readFileSync('/etc/ld.so.cache'));
  const entries = parseLdCache(bytes);
  assert.ok(entries.length > 10);
  assert.ok(entries.some((e) => e.name === 'libc.so.6' && e.path.endsWith('libc.so.6')));
  assert.equal(findInLdCache(entries, 'nope'), undefined);
  for (const n of [0, 10, 20, 47, 60, 200, bytes.length - 1]) {
    try {
      parseLdCache(bytes.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof LdCacheError, `length ${n}: ${String(e)}`);
    }
  }
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 300; i++) {
    const copy = bytes.slice(0, 4096);
    for (let j = 0; j < 8; j++) copy[rnd() % copy.length] = rnd() & 0xff;
    try {
      parseLdCache(copy);
    } catch (e) {
      assert.ok(e instanceof LdCacheError, String(e));
    }
  }
});
