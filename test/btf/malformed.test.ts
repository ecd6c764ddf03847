// Malformed BTF (a corrupt object, a hand-built type) is a BtfError naming the type, never a
// RangeError from a DataView, a stack overflow, or "NaN cannot be converted to a BigInt".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BtfBuilder } from '../../src/btf/marshal.js';
import { BtfKind } from '../../src/btf/types.js';
import { BtfError } from '../../src/btf/error.js';
import { compileCodec } from '../../src/btf/codec.js';
import { resolveCoreRelo, CoreReloKind } from '../../src/btf/core.js';

const btfError = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof BtfError, `a BtfError, not ${String(e)}`);
  assert.match(e.message, re);
  return true;
};

test('codec: a member past the end of its struct names the struct and the member', () => {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const past = b.add({ kind: BtfKind.STRUCT, name: 'past', size: 4, kindFlag: false, members: [
    { name: 'a', type: int, bitOffset: 0, bitfieldSize: 0 },
    { name: 'b', type: int, bitOffset: 64, bitfieldSize: 0 },
  ] });
  const bits = b.add({ kind: BtfKind.UNION, name: '', size: 1, kindFlag: true, members: [{ name: 'f', type: int, bitOffset: 4, bitfieldSize: 6 }] });
  const btf = b.build();
  assert.throws(() => compileCodec(btf, past), btfError(/^struct past: member 'b' \(32 bits at bit 64\) lies past the end of the 4-byte struct$/));
  assert.throws(() => compileCodec(btf, bits), btfError(/^union \(anonymous, id \d+\): member 'f' \(6 bits at bit 4\) lies past the end of the 1-byte union$/));
});

test('codec: an anonymous member that contains its own struct is refused, not recursed into forever', () => {
  const b = new BtfBuilder();
  const self = b.add({ kind: BtfKind.STRUCT, name: 'selfish', size: 8, kindFlag: false, members: [] });
  b.set(self, { kind: BtfKind.STRUCT, name: 'selfish', size: 8, kindFlag: false, members: [{ name: '', type: self, bitOffset: 0, bitfieldSize: 0 }] });
  assert.throws(() => compileCodec(b.build(), self), btfError(/^struct selfish: members nested more than \d+ deep \(an anonymous member that contains its own struct\?\)$/));
});

test('CO-RE: a target bitfield whose type has no size names the field, not "NaN cannot be converted to a BigInt"', () => {
  const tb = new BtfBuilder();
  const zero = tb.add({ kind: BtfKind.INT, name: 'int', size: 0, encoding: 1, bitOffset: 0, bits: 0 });
  tb.add({ kind: BtfKind.STRUCT, name: 'foo', size: 8, kindFlag: true, members: [{ name: 'a', type: zero, bitOffset: 3, bitfieldSize: 5 }] });
  const lb = new BtfBuilder();
  const li = lb.int('int', 4, true);
  const foo = lb.add({ kind: BtfKind.STRUCT, name: 'foo', size: 4, kindFlag: true, members: [{ name: 'a', type: li, bitOffset: 3, bitfieldSize: 5 }] });
  for (const kind of [CoreReloKind.FIELD_BYTE_OFFSET, CoreReloKind.FIELD_BYTE_SIZE, CoreReloKind.FIELD_LSHIFT_U64]) {
    assert.throws(() => resolveCoreRelo(lb.build(), { typeId: foo, accessStr: '0:0', kind }, tb.build()), btfError(/^CO-RE: bitfield 'a' of struct foo has no readable layout/));
  }
});
