// Builder-made programs in the real kernel: they must pass the verifier and compute, for every ALU,
// memory, atomic and jump form, what RFC 9669 says (a BigInt reference model here), through local
// calls, a bpf_loop callback (BPF_PSEUDO_FUNC), a goto relaxed to gotol over 33000 slots and legacy
// packet loads. The kernel-style disassembly of what the kernel holds is compared with bpftool's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Builder, imm, FP, R0, R1, R2, R3, R4, R6, R7, R8 } from '../../src/isa/builder.js';
import { decodeForm, encodeForm, laxForm, type AluOp, type JmpOp } from '../../src/isa/form.js';
import { decode, type Instruction } from '../../src/isa/instruction.js';
import { disassemble } from '../../src/isa/disasm.js';
import { assemble } from '../../src/isa/asm.js';
import { Program } from '../../src/kernel/program.js';
import { btfLoad, mapCreate, mapLookupElem } from '../../src/sys/bpf.js';
import { BtfBuilder } from '../../src/btf/marshal.js';
import { closeFd, type Fd } from '../../src/sys/fds.js';
import { mapIds, mapInfo, programIds } from '../../src/sys/info.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);

/** RFC 9669 ALU semantics on unsigned `bits`-wide operands; the result zero-extends. */
function alu(op: AluOp, a: bigint, b: bigint, bits: 32 | 64): bigint {
  const U = bits === 64 ? u64 : u32;
  const S = bits === 64 ? s64 : s32;
  const sh = b & BigInt(bits - 1);
  switch (op) {
    case 'add': return U(a + b);
    case 'sub': return U(a - b);
    case 'mul': return U(a * b);
    case 'div': return b === 0n ? 0n : U(a / b);
    case 'sdiv': return S(b) === 0n ? 0n : U(S(a) / S(b));
    case 'mod': return b === 0n ? a : U(a % b);
    case 'smod': return S(b) === 0n ? a : U(S(a) % S(b));
    case 'or': return a | b;
    case 'and': return a & b;
    case 'xor': return a ^ b;
    case 'lsh': return U(a << sh);
    case 'rsh': return a >> sh;
    case 'arsh': return U(S(a) >> sh);
    case 'mov': return b;
  }
}
function cond(op: JmpOp, a: bigint, b: bigint, bits: 32 | 64): boolean {
  const S = bits === 64 ? s64 : s32;
  switch (op) {
    case 'jeq': return a === b;
    case 'jne': return a !== b;
    case 'jgt': return a > b;
    case 'jge': return a >= b;
    case 'jlt': return a < b;
    case 'jle': return a <= b;
    case 'jsgt': return S(a) > S(b);
    case 'jsge': return S(a) >= S(b);
    case 'jslt': return S(a) < S(b);
    case 'jsle': return S(a) <= S(b);
    case 'jset': return (a & b) !== 0n;
  }
}
function bswap(x: bigint, bits: number): bigint {
  let r = 0n;
  for (let i = 0; i < bits / 8; i++) r = (r << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return r;
}

const A = 0xf123456789abcdefn;
const B = 7n;
const C = u64(-3n);
const ALU_OPS: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov'];
const JMP_OPS: JmpOp[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];

/** Results are stored as u64 at value + 8 * i; scratch space for atomics after them. */
const RESULTS = 1024;
const SCRATCH = RESULTS * 8;
const VALUE_SIZE = SCRATCH + 64;

interface Case { name: string; want: bigint }

/** The main program: one result per case, then a far goto, then subprograms. */
function mainProgram(filler: number): { b: Builder; cases: Case[]; packet?: Uint8Array } {
  const b = new Builder();
  const cases: Case[] = [];
  const result = (name: string, want: bigint, reg = R1): void => {
    b.stx('u64', R7, reg, 8 * cases.length);
    cases.push({ name, want: u64(want) });
  };
  b.ldMapValue(R7, 'results');
  for (const bits of [64, 32] as const) {
    const emit = (op: AluOp, src: number | { imm: number }) => (bits === 64 ? b.alu64(op, R1, src) : b.alu32(op, R1, src));
    const W = bits === 64 ? u64 : u32;
    for (const op of ALU_OPS) {
      for (const [bn, bv] of [['B', B], ['C', C]] as const) {
        if ((op === 'lsh' || op === 'rsh' || op === 'arsh') && bn === 'C') continue;
        b.lddw(R1, A).lddw(R2, bv);
        emit(op, R2);
        result(`alu${bits} ${op} A, ${bn}`, alu(op, W(A), W(bv), bits));
      }
      const k = op === 'lsh' || op === 'rsh' || op === 'arsh' ? 13 : op === 'div' || op === 'mod' ? 7 : -3;
      b.lddw(R1, A);
      emit(op, imm(k));
      result(`alu${bits} ${op} A, ${k}`, alu(op, W(A), W(BigInt(k)), bits));
    }
  }
  // unary, sign extension, byte order
  b.lddw(R1, A).neg64(R1);
  result('neg64', -A);
  b.lddw(R1, A).neg32(R1);
  result('neg32', u32(-A));
  for (const bits of [8, 16, 32] as const) {
    b.lddw(R2, A).movsx64(R1, R2, bits);
    result(`movsx64 s${bits}`, BigInt.asIntN(bits, A));
    if (bits !== 32) {
      b.lddw(R2, A).movsx32(R1, R2, bits);
      result(`movsx32 s${bits}`, u32(BigInt.asIntN(bits, A)));
    }
  }
  for (const bits of [16, 32, 64] as const) {
    b.lddw(R1, A).bswap(R1, bits);
    result(`bswap${bits}`, bswap(A, bits));
    b.lddw(R1, A).be(R1, bits);
    result(`be${bits}`, bswap(A, bits));
    b.lddw(R1, A).le(R1, bits);
    result(`le${bits}`, BigInt.asUintN(bits, A));
  }
  // stores and (sign-extending) loads through the stack
  b.st('u64', FP, -8, -5).ldx('u64', R1, FP, -8);
  result('st u64 imm sign-extends', -5n);
  b.st('u32', FP, -16, -2).ldx('s32', R1, FP, -16);
  result('ldx s32', -2n);
  b.ldx('u32', R1, FP, -16);
  result('ldx u32', 0xfffffffen);
  b.st('u16', FP, -24, 0x8001).ldx('s16', R1, FP, -24);
  result('ldx s16', -0x7fffn);
  b.st('u8', FP, -32, 0x80).ldx('s8', R1, FP, -32);
  result('ldx s8', -128n);
  b.ldx('u8', R1, FP, -32);
  result('ldx u8', 0x80n);
  b.lddw(R2, A).stx('u16', FP, R2, -40).ldx('u16', R1, FP, -40);
  result('stx/ldx u16', A & 0xffffn);
  // atomics on the map value
  const atomicCase = (size: 'u32' | 'u64', op: Parameters<Builder['atomic']>[1], init: bigint, operand: bigint, expectOld?: bigint): void => {
    const W = size === 'u64' ? u64 : u32;
    b.lddw(R1, init).stx(size, R7, R1, SCRATCH);
    if (op === 'cmpxchg') b.lddw(R0, expectOld!);
    b.lddw(R2, operand).atomic(size, op, R7, R2, SCRATCH);
    const base = op.replace('fetch_', '');
    const after =
      base === 'add' ? W(init + operand) : base === 'or' ? init | W(operand) : base === 'and' ? init & W(operand) : base === 'xor' ? init ^ W(operand)
        : base === 'xchg' ? W(operand) : W(init) === W(expectOld!) ? W(operand) : W(init);
    if (op === 'cmpxchg') result(`${size} cmpxchg old`, W(init), R0);
    else if (op.startsWith('fetch_') || op === 'xchg') result(`${size} ${op} old`, W(init), R2);
    b.ldx(size, R1, R7, SCRATCH);
    result(`${size} ${op} memory`, after);
  };
  for (const size of ['u64', 'u32'] as const) {
    const init = size === 'u64' ? 0x0f0f00000000ff00n : 0xff00ff00n;
    for (const op of ['add', 'or', 'and', 'xor', 'fetch_add', 'fetch_or', 'fetch_and', 'fetch_xor', 'xchg'] as const) atomicCase(size, op, init, 0x1234n);
    atomicCase(size, 'cmpxchg', init, 0x55n, init); // succeeds
    atomicCase(size, 'cmpxchg', init, 0x55n, init + 1n); // fails
  }
  // every condition: r1 = 1; if cond goto L; r1 = 0; L: store r1
  const pairs: Array<[string, bigint, bigint]> = [['A,B', A, B], ['B,A', B, A], ['A,A', A, A], ['C,B', C, B], ['B,C', B, C]];
  for (const bits of [64, 32] as const) {
    const W = bits === 64 ? u64 : u32;
    for (const op of JMP_OPS) {
      const branch = (src: number | { imm: number }, name: string, want: boolean): void => {
        const taken = b.newLabel('t');
        b.mov64(R1, imm(1));
        if (bits === 64) b.jmp(op, R3, src, taken);
        else b.jmp32(op, R3, src, taken);
        b.mov64(R1, imm(0)).label(taken);
        result(`jmp${bits} ${op} ${name}`, want ? 1n : 0n);
      };
      for (const [name, x, y] of pairs) {
        b.lddw(R3, x).lddw(R4, y);
        branch(R4, name, cond(op, W(x), W(y), bits));
      }
      for (const k of [-3, 7]) {
        b.lddw(R3, C);
        branch(imm(k), `C,${k}`, cond(op, W(C), W(BigInt(k)), bits));
      }
    }
  }
  // load-acquire / store-release of every width
  for (const [type, bytes] of [['u8', 1], ['u16', 2], ['u32', 4], ['u64', 8]] as const) {
    b.lddw(R2, A).storeRelease(type, R7, R2, SCRATCH + 16).loadAcquire(type, R1, R7, SCRATCH + 16);
    result(`store_release/load_acquire ${type}`, BigInt.asUintN(bytes * 8, A));
  }
  // a loop bounded by may_goto (and by its own condition, which ends it first)
  b.mov64(R1, imm(0)).label('again').mayGoto('done').add64(R1, imm(1)).jmp('<', R1, imm(5), 'again').label('done');
  result('may_goto loop', 5n);
  // the verifier inlines this into a per-CPU mov on x86-64; its result is not checked
  b.call('bpf_get_smp_processor_id');
  // local call and a bpf_loop callback through ld_imm64 BPF_PSEUDO_FUNC
  b.mov64(R1, imm(21)).callLocal('twice');
  result('call twice(21)', 42n, R0);
  b.mov64(R1, imm(5)).ldFunc(R2, 'loop_cb').mov64(R3, imm(0)).mov64(R4, imm(0)).call('bpf_loop');
  result('bpf_loop(5) iterations', 5n, R0);
  // a goto over `filler` slots: with more than 32767 it must have become gotol
  b.ldx('u64', R3, R7, SCRATCH + 8).mov64(R8, imm(0)); // 0 at run time, unknown to the verifier
  b.jmp('!=', R3, imm(0), 'filler').ja('far').label('filler');
  for (let i = 0; i < filler; i++) b.add64(R8, imm(1));
  b.label('far');
  result(`goto over ${filler} slots`, 0n, R8);
  b.mov64(R0, imm(0)).exit();
  b.label('twice').mov64(R0, R1).lsh64(R0, imm(1)).exit();
  b.label('loop_cb').mov64(R0, imm(0)).exit();
  assert.ok(cases.length <= RESULTS, `${cases.length} cases do not fit`);
  return { b, cases };
}

/** Legacy packet loads (they cannot share a program with bpf-to-bpf calls). */
function packetProgram(): { b: Builder; cases: Case[]; packet: Uint8Array } {
  const packet = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
  // a socket filter's skb starts after the Ethernet header the test run strips
  const be = (off: number, n: number): bigint => [...packet.slice(14 + off, 14 + off + n)].reduce((v, x) => (v << 8n) | BigInt(x), 0n);
  const b = new Builder();
  const cases: Case[] = [];
  const result = (name: string, want: bigint): void => {
    b.stx('u64', R7, R0, 8 * cases.length);
    cases.push({ name, want });
  };
  b.mov64(R6, R1).ldMapValue(R7, 'results');
  b.ldAbs('u8', 3);
  result('ld abs u8', be(3, 1));
  b.ldAbs('u16', 12);
  result('ld abs u16', be(12, 2));
  b.ldAbs('u32', 26);
  result('ld abs u32', be(26, 4));
  b.mov64(R8, imm(10)).ldInd('u8', R8, 5);
  result('ld ind u8', be(15, 1));
  b.ldInd('u16', R8, -4);
  result('ld ind u16', be(6, 2));
  b.ldInd('u32', R8, 30);
  result('ld ind u32', be(40, 4));
  b.mov64(R0, imm(7)).exit();
  return { b, cases, packet };
}

/** Load with the map fd patched in (what the object loader does) and, when the program has
 * subprograms, BTF func_info for them (the verifier wants it for bpf_loop callbacks). */
function load(built: { insns: Instruction[]; relocations: { slot: number }[]; labels: Map<string, number> }, mapFd: number, name: string): Program {
  const { insns, relocations, labels } = built;
  for (const r of relocations) insns[r.slot]!.imm = mapFd;
  const subprogs = ['twice', 'loop_cb'].filter((l) => labels.has(l));
  if (!subprogs.length) return Program.load({ type: ProgramType.SOCKET_FILTER, instructions: insns, license: 'GPL', name });
  const bb = new BtfBuilder();
  const long = bb.int('long', 8, true);
  const voidPtr = bb.ptr(0);
  const funcs = [
    { slot: 0, id: bb.func('main', bb.funcProto(long, [{ name: 'ctx', type: voidPtr }]), 0) },
    ...subprogs.map((l) => ({ slot: labels.get(l)!, id: bb.func(l, bb.funcProto(long, [{ name: 'a', type: long }, { name: 'b', type: voidPtr }]), 0) })),
  ].sort((x, y) => x.slot - y.slot);
  const btfFd = btfLoad(bb.marshal());
  try {
    return Program.load({
      type: ProgramType.SOCKET_FILTER, instructions: insns, license: 'GPL', name, btfFd,
      funcInfo: funcs.map((f) => ({ insnOff: f.slot, typeId: f.id })),
    });
  } finally {
    closeFd(btfFd);
  }
}

function readResults(mapFd: Fd, n: number): bigint[] {
  const value = new Uint8Array(VALUE_SIZE);
  assert.ok(mapLookupElem(mapFd, new Uint8Array(4), value));
  const v = new DataView(value.buffer);
  return Array.from({ length: n }, (_, i) => v.getBigUint64(8 * i, true));
}

async function gone(ids: () => number[], id: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (!ids().includes(id)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

test('builder programs verify and compute RFC 9669 semantics in the kernel', async (t) => {
  if (!needsRoot(t)) return;
  const mapFd = mapCreate({ type: MapType.ARRAY, keySize: 4, valueSize: VALUE_SIZE, maxEntries: 1, name: 'isa_results' });
  const mapId = mapInfo(mapFd).id;
  const progIds: number[] = [];
  try {
    for (const make of [() => mainProgram(33000), packetProgram]) {
      const built = make();
      const p = load(built.b.build(), mapFd, 'isa_semantics');
      progIds.push(p.id);
      try {
        const r = p.testRun(built.packet ?? new Uint8Array(64));
        assert.equal(r.retval, built.packet ? 7 : 0);
        const got = readResults(mapFd, built.cases.length);
        built.cases.forEach((c, i) => assert.equal(got[i], c.want, `${c.name}: got 0x${got[i]!.toString(16)}, want 0x${c.want.toString(16)}`));
      } finally {
        p.close();
      }
    }
  } finally {
    closeFd(mapFd);
  }
  for (const id of progIds) assert.ok(await gone(programIds, id), `program ${id} still loaded`);
  assert.ok(await gone(mapIds, mapId), `map ${mapId} still exists`);
});

test('kernel-style disassembly of a loaded program matches bpftool prog dump xlated', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'bpftool')) return;
  const mapFd = mapCreate({ type: MapType.ARRAY, keySize: 4, valueSize: VALUE_SIZE, maxEntries: 1, name: 'isa_xlated' });
  const mapId = mapInfo(mapFd).id;
  let progId = -1;
  try {
    const built = mainProgram(3).b.build();
    const p = load(built, mapFd, 'isa_xlated');
    try {
      progId = p.id;
      const xlated = decode(p.info({ xlated: true }).xlated!);
      const theirs = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(progId)], { encoding: 'utf8' }).split('\n').filter(Boolean);
      // bpftool heads each function with its BTF prototype; the verifier moved the subprograms, so
      // take where each starts in the translated program from its listing
      const protos = new Map<number, string>();
      theirs.forEach((l, i) => {
        const h = /^(.*\)):$/.exec(l);
        if (h) protos.set(Number(/^ *(\d+):/.exec(theirs[i + 1]!)![1]), h[1]!);
      });
      assert.deepEqual([...protos.values()], ['long main(void * ctx)', 'long twice(long a, void * b)', 'long loop_cb(long a, void * b)']);
      // and names the targets of local calls after their jited symbols
      const callees = new Map(theirs.map((l) => /^ *(\d+): \(85\) call pc[-+]\d+#(\S+)$/.exec(l)).filter((m) => m !== null).map((m) => [Number(m[1]), m[2]!]));
      assert.equal(callees.size, 2);
      const text = disassemble(xlated, { style: 'kernel', symbols: (slot) => protos.get(slot), callee: (slot) => callees.get(slot) });
      const ours = text.split('\n').filter(Boolean);
      assert.equal(ours.length, theirs.length, 'same number of instructions');
      // bpftool 7.1 predates cpu v4 (it prints sdiv as /=); for those forms our text follows today's
      // kernel/bpf/disasm.c, so take them out of the comparison
      const isV4 = (slot: number): boolean => {
        const f = decodeForm(xlated, slot);
        return f.kind === 'movsx' || f.kind === 'bswap' || f.kind === 'gotol' || (f.kind === 'ldx' && f.signed) || (f.kind === 'alu' && (f.op === 'sdiv' || f.op === 'smod'))
          || f.kind === 'may_goto' || f.kind === 'load_acquire' || f.kind === 'store_release' || f.kind === 'percpu';
      };
      let compared = 0;
      const mixed = ours.map((line, i) => {
        const slot = /^ *(\d+): /.exec(line);
        if (slot && isV4(Number(slot[1]))) return line;
        // the kernel rewrote helper calls to addresses that bpftool names from kallsyms; compare the rest
        if (!/ call (?!pc)/.test(theirs[i]!)) {
          assert.equal(line, theirs[i], `line ${i}`);
          compared++;
        }
        return theirs[i]!;
      });
      assert.ok(compared > 500, `only ${compared} lines compared`);
      assert.match(text, /\(bf\) r0 = &\(void __percpu \*\)\(r0\)\n/, 'the inlined bpf_get_smp_processor_id');
      // and bpftool's listing (headers, kernel-rewritten calls and all) assembles back to the kernel's
      // instructions, up to the reserved fields of its internal encodings (the zero-extension marker)
      const canonical: Instruction[] = [];
      for (let slot = 0; slot < xlated.length; ) {
        const f = laxForm(xlated, slot);
        canonical.push(...encodeForm(f));
        slot += f.kind === 'lddw' ? 2 : 1;
      }
      assert.ok(canonical.some((c, i) => c.imm !== xlated[i]!.imm), 'the verifier inserted a zero-extension marker');
      assert.deepEqual(assemble(mixed.join('\n').replace(/call [\w.]+#/g, 'call unknown#')).insns, canonical);
    } finally {
      p.close();
    }
  } finally {
    closeFd(mapFd);
  }
  assert.ok(await gone(programIds, progId), `program ${progId} still loaded`);
  assert.ok(await gone(mapIds, mapId), `map ${mapId} still exists`);
});
