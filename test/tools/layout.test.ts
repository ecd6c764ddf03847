// Reading records in place: member offsets from a tool object's BTF, C strings, repeated fields
// handed out once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/object/load-spec.js';
import { toolObjectPath } from '../../src/tools/common/object.js';
import { memberOffsets, cStringAt, u64At, bytesAt, SameBytes } from '../../src/tools/common/layout.js';

const spec = parseObject(new Uint8Array(readFileSync(toolObjectPath('tcpconnect'))), 'tcpconnect');

test('memberOffsets: tcpconnect.h struct event as the compiler laid it out; missing members and structs refused', () => {
  const f = memberOffsets({ spec }, 'event', ['saddr', 'daddr', 'comm', 'ts_us', 'id', 'pid', 'af', 'kind', 'state']);
  assert.deepEqual(f.saddr, { offset: 0, size: 16 });
  assert.deepEqual(f.daddr, { offset: 16, size: 16 });
  assert.deepEqual(f.comm, { offset: 32, size: 16 });
  assert.deepEqual(f.ts_us, { offset: 48, size: 8 });
  assert.deepEqual(f.id, { offset: 64, size: 8 });
  assert.deepEqual(f.pid, { offset: 72, size: 4 });
  assert.deepEqual(f.af, { offset: 88, size: 2 });
  assert.deepEqual(f.kind, { offset: 94, size: 1 });
  assert.deepEqual(f.state, { offset: 95, size: 1 });
  assert.throws(() => memberOffsets({ spec }, 'event', ['nosuch']), /no byte-aligned member nosuch/);
  assert.throws(() => memberOffsets({ spec }, 'no_such_struct', ['a']), /no struct no_such_struct/);
  assert.throws(() => memberOffsets({ spec: { ...spec, btf: undefined } }, 'event', ['pid']), /no BTF/);
});

test('cStringAt, u64At, bytesAt: in place, up to the NUL or the end, UTF-8 past ASCII', () => {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer, 8);
  b.set(new TextEncoder().encode('curl'), 8);
  assert.equal(cStringAt(v, 0, 16), 'curl');
  b.set(new TextEncoder().encode('0123456789abcdef'), 8);
  assert.equal(cStringAt(v, 0, 16), '0123456789abcdef', 'no NUL: the whole field');
  b.fill(0, 8, 24);
  b.set(new TextEncoder().encode('héllo'), 8);
  assert.equal(cStringAt(v, 0, 16), 'héllo');
  assert.equal(cStringAt(v, 0, 0), '');
  new DataView(b.buffer).setBigUint64(40, 2n ** 52n + 7n, true);
  assert.equal(u64At(v, 32), 2 ** 52 + 7);
  const view = bytesAt(v, 0, 4);
  b[8] = 99;
  assert.equal(view[0], 99, 'a view of the same memory');
});

test('SameBytes: one value while the bytes repeat, a new one when they change', () => {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  let made = 0;
  const s = new SameBytes(8, (dv, off) => (made++, dv.getBigUint64(off, true)));
  const first = s.get(v, 0);
  assert.equal(first, 0n);
  assert.equal(s.get(v, 8), 0n);
  assert.equal(made, 1, 'same bytes elsewhere: not made again');
  b[12] = 1;
  assert.equal(s.get(v, 8), 1n << 32n);
  assert.equal(made, 2);
  assert.equal(s.get(v, 0), 0n);
  assert.equal(made, 3);
  assert.throws(() => new SameBytes(6, () => 0), RangeError);
});
