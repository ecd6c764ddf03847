// encode -> disassemble -> assemble round trips for every RFC 9669 form in every syntax variant, the
// canonical-encoding property of decodeForm over all 256 opcodes, and exact texts for both syntaxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeForm, encodeForm, laxForm, type Form } from '../../src/isa/form.js';
import { disassemble, formatInstruction, type DisasmOptions } from '../../src/isa/disasm.js';
import { assemble, AsmError } from '../../src/isa/asm.js';
import { decode, insn, type Instruction } from '../../src/isa/instruction.js';
import { allForms } from './forms.js';

const VARIANTS: DisasmOptions[] = [
  { style: 'llvm' },
  { style: 'llvm', hex: false },
  { style: 'llvm', alu32: true },
  { style: 'kernel' },
];

test('every form encodes, decodes back to itself, and survives text in every syntax', () => {
  const forms = allForms();
  assert.ok(forms.length > 500, `only ${forms.length} forms`);
  const kinds = new Set(forms.map((f) => f.kind));
  for (const k of ['alu', 'movsx', 'neg', 'end', 'bswap', 'ldx', 'stx', 'st', 'atomic', 'ldabs', 'ldind', 'lddw', 'jmp', 'ja', 'gotol', 'call', 'exit',
    'may_goto', 'gotox', 'load_acquire', 'store_release', 'addr_space_cast', 'percpu']) {
    assert.ok(kinds.has(k as Form['kind']), `no ${k} form`);
  }
  for (const form of forms) {
    const insns = encodeForm(form);
    assert.deepEqual(decodeForm(insns, 0), form, `decode(encode(${JSON.stringify(form, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}))`);
    for (const opts of VARIANTS) {
      const text = formatInstruction(insns, 0, opts);
      let back: Instruction[];
      try {
        back = assemble(text).insns;
      } catch (e) {
        throw new Error(`${opts.style}${opts.hex === false ? ' dec' : ''}${opts.alu32 ? ' alu32' : ''}: cannot assemble '${text}': ${(e as Error).message}`);
      }
      assert.deepEqual(back, insns, `'${text}' (${JSON.stringify(opts)})`);
    }
  }
});

test('a whole listing round-trips, with slot numbers, labels and source lines', () => {
  const insns = allForms().flatMap((f) => encodeForm(f));
  const symbols = (slot: number): string | undefined => (slot % 50 === 0 ? `sym${slot}` : undefined);
  const source = (slot: number): string | undefined => `int line_${Math.floor(slot / 7)} = 0;`;
  for (const opts of VARIANTS) {
    const text = disassemble(insns, { ...opts, symbols, source });
    const r = assemble(text);
    assert.deepEqual(r.insns, insns);
    assert.equal(r.labels.get('sym100'), 100);
  }
});

test('decodeForm accepts exactly the canonical encodings of all 256 opcodes', () => {
  // For every opcode and a spread of field values (including junk in reserved fields): decoding never
  // throws; a valid decode re-encodes to the very same bits and reassembles from its text. A
  // non-canonical one prints as the reference disassemblers read it (reserved fields ignored) and
  // assembles to that reading's canonical encoding, or prints <unknown> and does not assemble.
  const fields: Array<[number, number, number, number]> = [
    [0, 0, 0, 0], [1, 2, 0, 0], [1, 0, 0, 5], [1, 2, 3, 0], [0, 0, 1, 0], [1, 0, 8, 0], [1, 2, 8, 0], [2, 3, 16, 0], [1, 2, 32, 0],
    [0, 0, 0, 16], [0, 0, 0, 32], [0, 0, 0, 64], [3, 0, 0, 0x01], [3, 1, 0, 0xe1], [3, 1, 0, 0xf1], [3, 1, 0, 0xf0], [3, 1, 0, 0x41],
    [3, 1, -4, 0x51], [1, 0, 0, 7], [11, 0, 0, 0], [0, 12, 0, 0], [15, 15, -1, -1], [0, 1, 0, 0], [0, 2, 0, 0], [0, 3, 0, 0],
  ];
  let valid = 0;
  let lax = 0;
  for (let code = 0; code < 256; code++) {
    for (const [dst, src, off, imm] of fields) {
      const prog = [insn(code, dst, src, off, imm), insn(0, 0, 0, 0, 7)];
      const form = decodeForm(prog, 0);
      const text = formatInstruction(prog, 0);
      if (form.kind === 'invalid') {
        const read = laxForm(prog, 0);
        if (read.kind === 'invalid') {
          assert.equal(text, '<unknown>');
          assert.throws(() => assemble(text), AsmError);
        } else {
          lax++;
          assert.deepEqual(assemble(text).insns, encodeForm(read), `lax ${text}`);
        }
        continue;
      }
      valid++;
      const n = form.kind === 'lddw' ? 2 : 1;
      assert.deepEqual(encodeForm(form), prog.slice(0, n), `opcode 0x${code.toString(16)} ${[dst, src, off, imm]}`);
      assert.deepEqual(assemble(text).insns, prog.slice(0, n), text);
      assert.deepEqual(assemble(formatInstruction(prog, 0, { style: 'kernel' })).insns, prog.slice(0, n), text);
    }
  }
  assert.ok(valid > 800 && lax > 500, `only ${valid} valid and ${lax} lax encodings seen`);
});

// Exact text in both syntaxes: llvm-objdump's (checked against LLVM 14 by llvm-agreement.test.ts; the
// cpu v4 forms follow newer LLVM's BPFInstrInfo.td) and the kernel's kernel/bpf/disasm.c formats.
const GOLDEN: Array<[Form, string, string]> = [
  [{ kind: 'alu', alu64: true, op: 'mov', dst: 0, src: null, imm: 0 }, 'r0 = 0x0', '(b7) r0 = 0'],
  [{ kind: 'alu', alu64: true, op: 'add', dst: 1, src: null, imm: -4 }, 'r1 += -0x4', '(07) r1 += -4'],
  [{ kind: 'alu', alu64: false, op: 'add', dst: 1, src: 2, imm: 0 }, 'w1 += w2', '(0c) w1 += w2'],
  [{ kind: 'alu', alu64: true, op: 'sdiv', dst: 1, src: 2, imm: 0 }, 'r1 s/= r2', '(3f) r1 s/= r2'],
  [{ kind: 'alu', alu64: false, op: 'smod', dst: 1, src: null, imm: 5 }, 'w1 s%= 0x5', '(94) w1 s%= 5'],
  [{ kind: 'alu', alu64: true, op: 'arsh', dst: 3, src: null, imm: 3 }, 'r3 s>>= 0x3', '(c7) r3 s>>= 3'],
  [{ kind: 'movsx', alu64: true, dst: 1, src: 2, bits: 8 }, 'r1 = (s8)r2', '(bf) r1 = (s8)r2'],
  [{ kind: 'movsx', alu64: false, dst: 1, src: 2, bits: 16 }, 'w1 = (s16)w2', '(bc) w1 = (s16)w2'],
  [{ kind: 'movsx', alu64: true, dst: 1, src: 2, bits: 32 }, 'r1 = (s32)r2', '(bf) r1 = (s32)r2'],
  [{ kind: 'neg', alu64: true, dst: 1 }, 'r1 = -r1', '(87) r1 = -r1'],
  [{ kind: 'end', order: 'be', dst: 1, bits: 16 }, 'r1 = be16 r1', '(dc) r1 = be16 r1'],
  [{ kind: 'end', order: 'le', dst: 1, bits: 64 }, 'r1 = le64 r1', '(d4) r1 = le64 r1'],
  [{ kind: 'bswap', dst: 1, bits: 32 }, 'r1 = bswap32 r1', '(d7) r1 = bswap32 r1'],
  [{ kind: 'ldx', size: 4, signed: false, dst: 0, src: 1, off: 4 }, 'r0 = *(u32 *)(r1 + 0x4)', '(61) r0 = *(u32 *)(r1 +4)'],
  [{ kind: 'ldx', size: 1, signed: true, dst: 1, src: 2, off: 0 }, 'r1 = *(s8 *)(r2 + 0x0)', '(91) r1 = *(s8 *)(r2 +0)'],
  [{ kind: 'stx', size: 4, dst: 10, src: 1, off: -4 }, '*(u32 *)(r10 - 0x4) = r1', '(63) *(u32 *)(r10 -4) = r1'],
  [{ kind: 'st', size: 8, dst: 10, off: -8, imm: 7 }, '*(u64 *)(r10 - 0x8) = 0x7', '(7a) *(u64 *)(r10 -8) = 7'],
  [{ kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 1, src: 2, off: 0 }, 'lock *(u64 *)(r1 + 0x0) += r2', '(db) lock *(u64 *)(r1 +0) += r2'],
  [{ kind: 'atomic', size: 4, op: 'or', fetch: true, dst: 1, src: 2, off: 8 }, 'w2 = atomic_fetch_or((u32 *)(r1 + 0x8), w2)', '(c3) r2 = atomic_fetch_or((u32 *)(r1 +8), r2)'],
  [{ kind: 'atomic', size: 8, op: 'xchg', fetch: true, dst: 1, src: 2, off: 0 }, 'r2 = xchg_64(r1 + 0x0, r2)', '(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)'],
  [{ kind: 'atomic', size: 8, op: 'cmpxchg', fetch: true, dst: 1, src: 2, off: 0 }, 'r0 = cmpxchg_64(r1 + 0x0, r0, r2)', '(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)'],
  [{ kind: 'atomic', size: 4, op: 'cmpxchg', fetch: true, dst: 1, src: 2, off: 0 }, 'w0 = cmpxchg32_32(r1 + 0x0, w0, w2)', '(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)'],
  [{ kind: 'ldabs', size: 1, imm: 23 }, 'r0 = *(u8 *)skb[0x17]', '(30) r0 = *(u8 *)skb[23]'],
  [{ kind: 'ldind', size: 4, src: 1, imm: 0 }, 'r0 = *(u32 *)skb[r1]', '(40) r0 = *(u32 *)skb[r1 + 0]'],
  [{ kind: 'ldind', size: 2, src: 1, imm: -2 }, 'r0 = *(u16 *)skb[r1 - 0x2]', '(48) r0 = *(u16 *)skb[r1 + -2]'],
  [{ kind: 'lddw', dst: 1, pseudo: 0, imm: 0x1122n }, 'r1 = 0x1122 ll', '(18) r1 = 0x1122'],
  [{ kind: 'lddw', dst: 1, pseudo: 0, imm: 0xffffffffffffffffn }, 'r1 = -0x1 ll', '(18) r1 = 0xffffffffffffffff'],
  [{ kind: 'lddw', dst: 1, pseudo: 1, imm: 3n }, 'ld_pseudo\tr1, 0x1, 0x3', '(18) r1 = map[id:3]'],
  [{ kind: 'lddw', dst: 2, pseudo: 2, imm: (8n << 32n) | 3n }, 'ld_pseudo\tr2, 0x2, 0x800000003', '(18) r2 = map[id:3][0]+8'],
  [{ kind: 'lddw', dst: 1, pseudo: 3, imm: 77n }, 'ld_pseudo\tr1, 0x3, 0x4d', '(18) r1 = btf_id[77]'],
  [{ kind: 'lddw', dst: 1, pseudo: 4, imm: 0xfffffffbn }, 'ld_pseudo\tr1, 0x4, 0xfffffffb', '(18) r1 = subprog[-5]'],
  [{ kind: 'lddw', dst: 1, pseudo: 5, imm: 2n }, 'ld_pseudo\tr1, 0x5, 0x2', '(18) r1 = map[idx:2]'],
  [{ kind: 'lddw', dst: 1, pseudo: 6, imm: (4n << 32n) | 2n }, 'ld_pseudo\tr1, 0x6, 0x400000002', '(18) r1 = map[idx:2]+4'],
  [{ kind: 'jmp', jmp32: false, op: 'jgt', dst: 1, src: null, imm: 5, off: 3 }, 'if r1 > 0x5 goto +0x3', '(25) if r1 > 0x5 goto pc+3'],
  [{ kind: 'jmp', jmp32: true, op: 'jslt', dst: 1, src: 2, imm: 0, off: -2 }, 'if w1 s< w2 goto -0x2', '(ce) if w1 s< w2 goto pc-2'],
  [{ kind: 'jmp', jmp32: false, op: 'jset', dst: 1, src: null, imm: -1, off: 0 }, 'if r1 & -0x1 goto +0x0', '(45) if r1 & 0xffffffff goto pc+0'],
  [{ kind: 'ja', off: -1 }, 'goto -0x1', '(05) goto pc-1'],
  [{ kind: 'gotol', imm: 256 }, 'gotol +0x100', '(06) gotol pc+256'],
  [{ kind: 'call', call: 'helper', imm: 1 }, 'call 0x1', '(85) call bpf_map_lookup_elem#1'],
  [{ kind: 'call', call: 'helper', imm: 9999 }, 'call 0x270f', '(85) call unknown#9999'],
  [{ kind: 'call', call: 'local', imm: 5 }, 'call pc+0x5', '(85) call pc+5'],
  [{ kind: 'call', call: 'kfunc', imm: 1234 }, 'call kfunc 0x4d2', '(85) call kernel-function#1234'],
  [{ kind: 'exit' }, 'exit', '(95) exit'],
  [{ kind: 'may_goto', off: 4 }, 'may_goto +0x4', '(e5) may_goto pc+4'],
  [{ kind: 'gotox', dst: 2 }, 'gotox r2', '(0d) gotox r2'],
  [{ kind: 'load_acquire', size: 8, dst: 1, src: 2, off: 8 }, 'r1 = load_acquire((u64 *)(r2 + 0x8))', '(db) r1 = load_acquire((u64 *)(r2 +8))'],
  [{ kind: 'load_acquire', size: 1, dst: 1, src: 2, off: 0 }, 'w1 = load_acquire((u8 *)(r2 + 0x0))', '(d3) r1 = load_acquire((u8 *)(r2 +0))'],
  [{ kind: 'store_release', size: 4, dst: 1, src: 2, off: -4 }, 'store_release((u32 *)(r1 - 0x4), w2)', '(c3) store_release((u32 *)(r1 -4), r2)'],
  [{ kind: 'addr_space_cast', dst: 1, src: 2, dstAs: 1, srcAs: 0 }, 'r1 = addr_space_cast(r2, 0x1, 0x0)', '(bf) r1 = addr_space_cast(r2, 1, 0)'],
  [{ kind: 'percpu', dst: 0, src: 0 }, 'r0 = &(void __percpu *)(r0)', '(bf) r0 = &(void __percpu *)(r0)'],
];

test('exact llvm and kernel texts', () => {
  for (const [form, llvm, kernel] of GOLDEN) {
    const insns = encodeForm(form);
    assert.equal(formatInstruction(insns, 0), llvm);
    assert.equal(formatInstruction(insns, 0, { style: 'kernel' }), kernel);
  }
  // LLVM 14's decimal mode and --mattr=+alu32 spellings
  const ld = encodeForm({ kind: 'ldx', size: 2, signed: false, dst: 3, src: 10, off: -300 });
  assert.equal(formatInstruction(ld, 0, { hex: false }), 'r3 = *(u16 *)(r10 - 300)');
  assert.equal(formatInstruction(ld, 0, { hex: false, alu32: true }), 'w3 = *(u16 *)(r10 - 300)');
  const lock32 = encodeForm({ kind: 'atomic', size: 4, op: 'add', fetch: false, dst: 1, src: 2, off: 0 });
  assert.equal(formatInstruction(lock32, 0, { hex: false }), 'lock *(u32 *)(r1 + 0) += r2');
  assert.equal(formatInstruction(lock32, 0, { hex: false, alu32: true }), 'lock *(u32 *)(r1 + 0) += w2');
});

test('names: maps, symbols, callees and source lines', () => {
  const { insns } = assemble(`
    r1 = map[events] ll
    r2 = map[.rodata][0] + 0x10 ll
    call bpf_ringbuf_output
    call 7
    goto out
    call kfunc 0x77
  out:
    exit`);
  const mapName = (slot: number): string | undefined => ({ 0: 'events', 2: '.rodata' })[slot];
  const symbols = (slot: number): string | undefined => (slot === 8 ? 'out' : slot === 0 ? 'prog' : undefined);
  const callee = (slot: number): string | undefined => (slot === 7 ? 'bpf_obj_new_impl' : undefined);
  const source = (slot: number): string | undefined => (slot < 5 ? 'bpf_ringbuf_output(&events, ...);' : 'return 0;');
  assert.equal(disassemble(insns, { mapName, symbols, callee, source }), [
    '0000000000000000 <prog>:',
    '; bpf_ringbuf_output(&events, ...);',
    '       0:\tr1 = map[events] ll',
    '       2:\tr2 = map[.rodata][0] + 0x10 ll',
    '       4:\tcall 0x82',
    '; return 0;',
    '       5:\tcall 0x7',
    '       6:\tgoto +0x1 <out>',
    '       7:\tcall kfunc 0x77 <bpf_obj_new_impl>',
    '',
    '0000000000000040 <out>:',
    '       8:\texit',
    '',
  ].join('\n'));
  assert.equal(disassemble(insns, { style: 'kernel', mapName, callee }), [
    '   0: (18) r1 = map[events]',
    '   2: (18) r2 = map[.rodata][0]+16',
    '   4: (85) call bpf_ringbuf_output#130',
    '   5: (85) call bpf_get_prandom_u32#7',
    '   6: (05) goto pc+1',
    '   7: (85) call bpf_obj_new_impl#119',
    '   8: (95) exit',
    '',
  ].join('\n'));
  // a name only replaces an lddw that holds nothing else
  const value = encodeForm({ kind: 'lddw', dst: 1, pseudo: 2, imm: 5n << 32n });
  assert.equal(formatInstruction(value, 0, { mapName: () => ({ map: 'm', kind: 'fd', offset: 0 }) }), 'ld_pseudo\tr1, 0x2, 0x500000000');
  assert.equal(formatInstruction(value, 0, { mapName: () => 'm' }), 'r1 = map[m][0] + 0x5 ll');
});

test('fuzz: random instruction bytes always disassemble, and what prints assembles to its reading', () => {
  let seed = 0x9669;
  const byte = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  };
  const common = [0x07, 0x0f, 0x18, 0x61, 0x63, 0x7b, 0x85, 0x95, 0xb7, 0xbf, 0xc3, 0xdb, 0x15, 0x05, 0x06, 0xe5];
  for (let n = 0; n < 3000; n++) {
    const bytes = Uint8Array.from({ length: 8 * (1 + (byte() % 6)) }, byte);
    for (let p = 0; p < bytes.length; p += 8) if (byte() < 128) bytes[p] = common[byte() % common.length]!;
    const insns = decode(bytes);
    for (const opts of VARIANTS) {
      const text = disassemble(insns, opts);
      const lines = text.split('\n').filter((l) => l && !l.includes('<unknown>'));
      const back = assemble(lines.join('\n')).insns;
      const want: Instruction[] = [];
      for (let slot = 0; slot < insns.length; ) {
        const f = laxForm(insns, slot);
        if (f.kind !== 'invalid') want.push(...encodeForm(f));
        slot += f.kind === 'lddw' ? 2 : 1;
      }
      assert.deepEqual(back, want, text);
    }
  }
  assert.throws(() => formatInstruction([], 0), /slot 0 is outside the program \(0 slots\)/);
});
