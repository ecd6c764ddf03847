import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/object/load-spec.js';
import { resolveExterns, parseKconfig } from '../../src/object/externs.js';
import { internalMapName, objectName } from '../../src/object/names.js';
import { ObjectError } from '../../src/object/spec.js';
import { MapType } from '../../src/uapi/bpf.js';
import { buildFixture, skeletonNames } from './build.js';
import { needsCommand } from '../helpers/kernel.js';

test('BTF-defined maps: every field, in libbpf order', (t) => {
  if (!needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const path = buildFixture('maps');
  const spec = parseObject(readFileSync(path), 'maps');
  assert.deepEqual(spec.maps.map((m) => m.name), skeletonNames(path, 'maps').maps);
  const m = (n: string) => spec.maps.find((x) => x.name === n)!;
  const btf = spec.btf!;
  const h = m('hash_map');
  assert.deepEqual([h.type, h.keySize, h.valueSize, h.maxEntries, h.flags, h.pinning], [MapType.HASH, 20, 16, 1024, 1, 1]);
  assert.equal(btf.typeById(h.btfKeyTypeId).name, 'key_t');
  assert.equal(btf.typeById(h.btfValueTypeId).name, 'val_t');
  assert.deepEqual([m('array_map').type, m('array_map').keySize, m('array_map').valueSize, m('array_map').maxEntries], [MapType.ARRAY, 4, 8, 16]);
  assert.deepEqual([m('percpu_hash').keySize, m('percpu_hash').valueSize, m('percpu_hash').btfKeyTypeId], [4, 8, 0]);
  assert.equal(m('lru').numaNode, 0);
  assert.deepEqual([m('lpm').type, m('lpm').keySize, m('lpm').flags], [MapType.LPM_TRIE, 8, 1]);
  assert.deepEqual([m('perf_events').type, m('perf_events').keySize, m('perf_events').valueSize, m('perf_events').maxEntries], [MapType.PERF_EVENT_ARRAY, 4, 4, 0]);
  assert.deepEqual([m('ringbuf').type, m('ringbuf').maxEntries, m('ringbuf').keySize], [MapType.RINGBUF, 65536, 0]);
  assert.deepEqual([m('stacks').type, m('stacks').valueSize], [MapType.STACK_TRACE, 127 * 8]);
  assert.deepEqual([m('queue').type, m('queue').keySize, m('queue').valueSize], [MapType.QUEUE, 0, 8]);
  assert.equal(m('stack').type, MapType.STACK);
  assert.deepEqual([m('bloom').type, m('bloom').mapExtra], [MapType.BLOOM_FILTER, 3n]);
  assert.deepEqual([m('task_store').type, m('task_store').flags, m('task_store').maxEntries], [MapType.TASK_STORAGE, 1, 0]);
  assert.equal(m('sk_store').type, MapType.SK_STORAGE);
  assert.equal(m('devmap').type, MapType.DEVMAP);
  assert.deepEqual([m('cpumap').type, m('cpumap').valueSize], [MapType.CPUMAP, 8]);
  assert.equal(m('xsks').type, MapType.XSKMAP);
  assert.equal(m('sockmap').type, MapType.SOCKMAP);
  assert.equal(m('sockhash').type, MapType.SOCKHASH);
  assert.equal(m('cgroups').type, MapType.CGROUP_ARRAY);
  assert.equal(m('user_rb').type, MapType.USER_RINGBUF);
  assert.ok(spec.maps.every((x) => x.origin === 'btf' && x.section === '.maps'));
  // as libbpf: map types the kernel takes no key/value BTF for carry none
  for (const n of ['devmap', 'cpumap', 'xsks', 'sockmap', 'sockhash', 'queue', 'stack', 'outer_hash', 'outer_array', 'perf_events']) {
    assert.deepEqual([m(n).btfKeyTypeId, m(n).btfValueTypeId], [0, 0], n);
  }
});

test('__array initialisers: prog array slots by program name, map of maps with inner definition', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const spec = parseObject(readFileSync(buildFixture('maps')), 'maps');
  const m = (n: string) => spec.maps.find((x) => x.name === n)!;
  const jt = m('jump_table');
  assert.deepEqual([jt.type, jt.keySize, jt.valueSize, jt.maxEntries], [MapType.PROG_ARRAY, 4, 4, 4]);
  assert.deepEqual(jt.initSlots, [{ index: 0, value: 'tail_a' }, { index: 2, value: 'tail_b' }]);
  assert.ok(jt.initSlots.every((s) => spec.programs.some((p) => p.name === s.value)));
  const oh = m('outer_hash');
  assert.deepEqual([oh.type, oh.keySize, oh.valueSize, oh.maxEntries], [MapType.HASH_OF_MAPS, 4, 4, 8]);
  assert.deepEqual(oh.initSlots, [{ index: 1, value: 'inner_b' }]);
  assert.deepEqual([oh.innerMap?.name, oh.innerMap?.type, oh.innerMap?.keySize, oh.innerMap?.valueSize, oh.innerMap?.maxEntries],
    ['outer_hash.inner', MapType.ARRAY, 4, 4, 8]);
  const oa = m('outer_array');
  assert.deepEqual([oa.type, oa.innerMap?.type, oa.innerMap?.maxEntries, oa.initSlots.length], [MapType.ARRAY_OF_MAPS, MapType.RINGBUF, 4096, 0]);
  // the program refers to maps by name, the loader patches fds
  const use = spec.programs.find((p) => p.name === 'use_maps')!;
  assert.deepEqual(use.mapRefs.map((r) => [r.map, r.kind]), [['array_map', 'fd'], ['outer_hash', 'fd'], ['jump_table', 'fd']]);
});

test('legacy SEC("maps") struct bpf_map_def and the version section', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const spec = parseObject(readFileSync(buildFixture('legacy')), 'legacy');
  assert.deepEqual(spec.maps.map((m) => [m.name, m.origin, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags]), [
    ['legacy_hash', 'legacy', MapType.HASH, 4, 8, 32, 1],
    ['legacy_array', 'legacy', MapType.ARRAY, 4, 4, 2, 0],
  ]);
  assert.equal(spec.kernelVersion, 0x050a00);
  assert.equal(spec.programs[0]!.kernelVersion, 0x050a00);
  assert.deepEqual(spec.programs[0]!.mapRefs.map((r) => [r.map, r.kind]), [['legacy_hash', 'fd'], ['legacy_array', 'fd']]);
});

test('kconfig externs: libbpf layout and values written by resolveExterns', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const spec = parseObject(readFileSync(buildFixture('programs')), 'programs');
  // sorted by alignment (desc), size (asc), name: 4-byte ints first, then bool, then char[16]
  assert.deepEqual(spec.externs.map((e) => [e.name, e.kconfigType, e.offset, e.size, e.weak]), [
    ['CONFIG_BPF_JIT', 'tristate', 0, 4, true],
    ['CONFIG_HZ', 'int', 4, 4, false],
    ['LINUX_KERNEL_VERSION', 'int', 8, 4, false],
    ['CONFIG_BPF_SYSCALL', 'bool', 12, 1, false],
    ['LINUX_HAS_SYSCALL_WRAPPER', 'bool', 13, 1, false],
    ['CONFIG_DEFAULT_HOSTNAME', 'char_array', 14, 16, true],
  ]);
  const kc = spec.maps.find((m) => m.section === '.kconfig')!;
  assert.deepEqual([kc.name, kc.valueSize, kc.frozen], ['program.kconfig', 30, true]);
  const kconfig = parseKconfig('# comment\nCONFIG_BPF_JIT=m\nCONFIG_HZ=1000\n# CONFIG_FOO is not set\nCONFIG_BPF_SYSCALL=y\nCONFIG_DEFAULT_HOSTNAME="a-very-long-hostname-here"\n');
  resolveExterns(spec, { kconfig, kernelVersion: (6 << 16) | (18 << 8) });
  const v = new DataView(kc.contents!.buffer, kc.contents!.byteOffset);
  assert.equal(v.getUint32(0, true), 2, 'tristate m = 2');
  assert.equal(v.getInt32(4, true), 1000);
  assert.equal(v.getUint32(8, true), 0x061200);
  assert.equal(kc.contents![12], 1);
  assert.equal(kc.contents![13], 1, 'LINUX_HAS_SYSCALL_WRAPPER: 6.18 >= 4.17');
  assert.equal(new TextDecoder().decode(kc.contents!.subarray(14, 30)), 'a-very-long-hos\0', 'truncated, NUL-terminated');
  // weak externs may be missing; strong ones may not
  resolveExterns(spec, { kconfig: new Map([['CONFIG_HZ', '0x64'], ['CONFIG_BPF_SYSCALL', 'n']]), kernelVersion: 1 });
  assert.equal(v.getInt32(4, true), 100);
  assert.equal(v.getUint32(0, true), 0);
  assert.equal(kc.contents![12], 0);
  assert.equal(kc.contents![13], 0, 'no syscall wrappers before 4.17');
  resolveExterns(spec, { kconfig: new Map([['CONFIG_HZ', '1'], ['CONFIG_BPF_SYSCALL', 'y'], ['LINUX_HAS_SYSCALL_WRAPPER', 'y']]), kernelVersion: 1 });
  assert.equal(kc.contents![13], 1, 'an explicit value wins');
  assert.throws(() => resolveExterns(spec, { kconfig: new Map([['CONFIG_HZ', '1']]), kernelVersion: 1 }), /CONFIG_BPF_SYSCALL.*not set/);
  assert.throws(() => resolveExterns(spec, { kconfig: new Map([['CONFIG_HZ', '1'], ['CONFIG_BPF_SYSCALL', 'm']]), kernelVersion: 1 }), ObjectError);
  assert.throws(() => resolveExterns(spec, { kconfig: new Map([['CONFIG_HZ', '99999999999'], ['CONFIG_BPF_SYSCALL', 'y']]), kernelVersion: 1 }), /does not fit/);
  assert.throws(() => resolveExterns(spec, { kconfig: new Map([['CONFIG_HZ', '"str"'], ['CONFIG_BPF_SYSCALL', 'y']]), kernelVersion: 1 }), ObjectError);
  // programs reference the extern's slot in the .kconfig map
  const p = spec.programs.find((x) => x.name === 'on_state_too')!;
  assert.ok(p.mapRefs.some((r) => r.map === 'program.kconfig' && r.offset === 12));
  const ks = spec.programs.find((x) => x.name === 'ks_openat')!;
  assert.deepEqual([ks.attach, ks.mapRefs.map((r) => [r.map, r.offset])], [{ kind: 'ksyscall', target: 'openat' }, [['program.kconfig', 13]]]);
});

test('names: object name and internal map names', () => {
  assert.equal(objectName('/a/b/tcpconnect.bpf.o'), 'tcpconnect');
  assert.equal(internalMapName('tcpconnect', '.rodata'), 'tcpconne.rodata');
  assert.equal(internalMapName('tcpconnect', '.bss'), 'tcpconne.bss');
  assert.equal(internalMapName('tcpconnect', '.kconfig'), 'tcpconn.kconfig');
  assert.equal(internalMapName('x', '.data'), 'x.data');
  assert.equal(internalMapName('tcpconnect', '.data.custom'), '.data.custom');
  assert.equal(internalMapName('tcpconnect', '.rodata.str1.1'), '.rodata.str1.1');
  assert.equal(internalMapName('a-b', '.data'), 'a_b.data');
});
