// Name lookups without a name index (a scan comparing the bytes at each type's name offset, what
// a tool's start-up uses) must find exactly what the index finds: on the kernel's BTF, with name
// offsets into the middle of strings, with split BTF, and with names that are not ASCII.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseBtf } from '../../src/btf/parse.js';
import { coreCandidates } from '../../src/btf/core.js';
import { BtfKind } from '../../src/btf/types.js';
import { VMLINUX, readBytes } from './helpers.js';

/** A BTF blob from type records (32-bit words) and a string section. */
function blob(words: number[], strings: string): Uint8Array {
  const str = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + words.length * 4 + str.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, words.length * 4, true);
  v.setUint32(16, words.length * 4, true);
  v.setUint32(20, str.length, true);
  words.forEach((w, i) => v.setUint32(24 + 4 * i, w, true));
  out.set(str, 24 + words.length * 4);
  return out;
}
const INT = (nameOff: number) => [nameOff, BtfKind.INT << 24, 4, 32];
const STRUCT0 = (nameOff: number) => [nameOff, BtfKind.STRUCT << 24, 0];

test('kernel BTF: lookups by scan equal the name index (exact, kinds, prefixes, flavors)', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  const bytes = readBytes(VMLINUX);
  const indexed = parseBtf(bytes);
  const names = [...indexed.names()]; // builds the index
  // a spread of names, plus ones that are prefixes or suffixes of others
  const pick = names.filter((_, i) => i % Math.floor(names.length / 40) === 0).concat(['task_struct', 'sock', 'pid', 'id', 'u32', 'no_such_type_at_all']);
  const scanned = parseBtf(bytes);
  for (const n of pick) {
    assert.deepEqual(scanned.findAllByName(n).map((x) => x.id), indexed.findAllByName(n).map((x) => x.id), n);
    assert.equal(scanned.findByName(n, BtfKind.STRUCT)?.id, indexed.findByName(n, BtfKind.STRUCT)?.id, n);
  }
  for (const p of ['task_', 'bpf_map', 'sk_buff', 'zz_no_such_']) {
    const want = names.filter((n) => n.startsWith(p)).flatMap((n) => indexed.findAllByName(n).map((x) => x.id)).sort((a, b) => a - b);
    assert.deepEqual(parseBtf(bytes).findAllByNamePrefix(p).map((x) => x.id), want, p);
    assert.deepEqual(indexed.findAllByNamePrefix(p).map((x) => x.id), want, `${p} (index)`);
  }
  // CO-RE candidates: same on both
  const ts = indexed.findByName('task_struct', BtfKind.STRUCT)!;
  assert.deepEqual(coreCandidates(parseBtf(bytes), ts), coreCandidates(indexed, ts));
  // past the scan budget the index takes over, with the same answers
  const many = parseBtf(bytes);
  for (let i = 0; i < 100; i++) assert.equal(many.findByName(pick[i % pick.length]!)?.id, indexed.findByName(pick[i % pick.length]!)?.id);
});

test('name offsets into the middle of a string, and names that are prefixes of others', () => {
  // strings: "" "xtask" (1) "task" is at 2, inside "xtask"; "task___v2" (7)
  const btf = parseBtf(blob([...INT(1), ...INT(2), ...STRUCT0(7), ...INT(0)], '\0xtask\0task___v2\0'));
  assert.deepEqual(btf.findAllByName('task').map((x) => x.id), [2]);
  assert.deepEqual(btf.findAllByName('xtask').map((x) => x.id), [1]);
  assert.deepEqual(btf.findAllByName('tas').map((x) => x.id), []);
  assert.deepEqual(btf.findAllByName('').map((x) => x.id), []);
  assert.deepEqual(btf.findAllByNamePrefix('task').map((x) => x.id), [2, 3]);
  assert.deepEqual(btf.findAllByNamePrefix('task___').map((x) => x.id), [3]);
  assert.deepEqual(coreCandidates(btf, { kind: BtfKind.STRUCT, id: 9, name: 'task', size: 0, members: [], kindFlag: false }), [3]);
});

test('split BTF: own names and names in the base strings are both found', () => {
  const base = parseBtf(blob([...INT(1), ...INT(5)], '\0int\0long\0'));
  // split strings start at the base's length (10); its types start at id 3
  const split = parseBtf(blob([...INT(10 + 1), ...STRUCT0(5), ...STRUCT0(10 + 6)], '\0mine\0long\0'), base);
  assert.deepEqual(split.findAllByName('mine').map((x) => x.id), [3]);
  assert.deepEqual(split.findAllByName('long').map((x) => x.id), [2, 4, 5]);
  assert.deepEqual(split.findAllByName('long', BtfKind.STRUCT).map((x) => x.id), [4, 5]);
  assert.deepEqual(split.findAllByNamePrefix('lo').map((x) => x.id), [2, 4, 5]);
  assert.equal(split.findByName('int')?.id, 1);
});

test('non-ASCII names are found and decoded', () => {
  const btf = parseBtf(blob([...INT(1), ...INT(9)], '\0größe\0plain\0'));
  assert.equal(btf.typeById(1).name, 'größe');
  assert.deepEqual(btf.findAllByName('größe').map((x) => x.id), [1]);
  assert.deepEqual(btf.findAllByName('plain').map((x) => x.id), [2]);
});

test('the running kernel BTF (mapped read-only where the kernel allows it) answers like a parse of the file', async (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
  const { vmlinuxBtf } = await import('../../src/kernel/vmlinux.js');
  const k = vmlinuxBtf();
  const f = parseBtf(readBytes(VMLINUX));
  assert.equal(k.length, f.length);
  for (const n of ['task_struct', 'sk_buff', 'btf_trace_sched_switch']) assert.deepEqual(k.findAllByName(n), f.findAllByName(n));
  assert.deepEqual(k.typeById(k.length - 1), f.typeById(f.length - 1));
});
