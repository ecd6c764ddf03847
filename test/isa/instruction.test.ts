import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, imm64, splitImm64, insn, InstructionDecodeError } from '../../src/isa/instruction.js';
import { BPF_ALU64, BPF_MOV, BPF_K, BPF_JMP, BPF_EXIT } from '../../src/isa/opcodes.js';

test('encode/decode round-trips struct bpf_insn', () => {
  const prog = [insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, -2), insn(BPF_JMP | BPF_EXIT)];
  const bytes = encode(prog);
  assert.deepEqual([...bytes.slice(0, 8)], [0xb7, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff]);
  assert.deepEqual(decode(bytes), prog);
});

test('lddw immediates split and join', () => {
  const [lo, hi] = splitImm64(0x1122334455667788n);
  assert.equal(imm64([insn(0x18, 1, 0, 0, lo), insn(0, 0, 0, 0, hi)], 0), 0x1122334455667788n);
  assert.equal(imm64([insn(0x18, 1, 0, 0, -1), insn(0, 0, 0, 0, -1)], 0), 0xffffffffffffffffn);
});

test('decode rejects a truncated instruction stream', () => {
  assert.throws(() => decode(new Uint8Array(12)), InstructionDecodeError);
});
