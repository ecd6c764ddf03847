// Runs a compiled socket filter in user space, for `capture -r`: the eBPF program (the instruction
// subset codegen.ts emits) is translated once into a JavaScript function that V8 then compiles, so
// filtering a file costs tens of nanoseconds per packet instead of a bpf(2) call each. Semantics
// follow the kernel's: LD_ABS/IND read big-endian and make the program return 0 when out of
// bounds; ALU32 results are zero-extended; x/0 = 0 and x%0 = x; shifts use the low 5 bits.
// Only forward jumps exist in a filter, so each jump target becomes the end of a labelled block
// and a jump becomes `break`.
import type { Instruction } from '../../isa/instruction.js';
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_B, BPF_CLASS, BPF_DIV, BPF_DW, BPF_EXIT, BPF_H, BPF_IND, BPF_JA,
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_LD, BPF_LDX, BPF_LSH,
  BPF_MEM, BPF_MOD, BPF_MODE, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OP, BPF_OR, BPF_RSH, BPF_SIZE, BPF_SRC, BPF_STX, BPF_SUB,
  BPF_W, BPF_X, BPF_XOR,
} from '../../isa/opcodes.js';
import { SKB_LEN, SKB_VLAN_PRESENT, SKB_VLAN_TCI } from './codegen.js';

/**
 * A filter over one packet stored at `bytes[start .. start+caplen)`; `wirelen` is its length on the
 * wire (what `len` means). Returns the program's return value (0 = drop).
 */
export type PacketFilter = (bytes: Uint8Array, start: number, caplen: number, wirelen: number) => number;

/** Beyond this many jump targets, translate() dispatches with a switch instead of nesting blocks. */
const MAX_NESTED_BLOCKS = 2000;

export class UnsupportedInstructionError extends Error {}

/** A jump's offset: 16 bits in `off`, or 32 in `imm` for `gotol` (BPF_JMP32 | BPF_JA). */
const jumpOffset = (i: Instruction): number => (i.code === (BPF_JMP32 | BPF_JA) ? i.imm : i.off);

export function compileToJs(insns: readonly Instruction[]): PacketFilter {
  return new Function(`"use strict"; return ${translate(insns)};`)() as PacketFilter;
}

/** The JavaScript source of the filter function (exported for tests and `-d`-style inspection). */
export function translate(insns: readonly Instruction[]): string {
  const targets = new Set<number>();
  insns.forEach((i, pc) => {
    const cls = BPF_CLASS(i.code);
    if ((cls === BPF_JMP || cls === BPF_JMP32) && BPF_OP(i.code) !== BPF_EXIT) {
      const off = jumpOffset(i);
      if (off < 0) throw new UnsupportedInstructionError(`backward jump at ${pc}`);
      targets.add(pc + 1 + off);
    }
  });
  const stack = new Set<number>();
  const body: string[] = [];
  // each jump target ends a labelled block and a jump is `break`; a program with thousands of
  // targets (a long allow-list) would nest blocks deeper than V8's parser goes, so it becomes a
  // `switch` over the targets in a loop instead (slower, but any length)
  const dispatch = targets.size > MAX_NESTED_BLOCKS;
  if (dispatch) body.push('for (;;) switch (pc) {', 'case 0:');
  else for (const t of [...targets].sort((a, b) => b - a)) body.push(`L${t}: {`);
  const reg = (r: number, pc: number): string => {
    if (r === 6 || r === 10 || r > 10) throw new UnsupportedInstructionError(`register r${r} used as a value at ${pc}`);
    return `r${r}`;
  };
  const load = (size: number, offExpr: string, constant?: number): string => {
    const n = size === BPF_B ? 1 : size === BPF_H ? 2 : 4;
    const read = n === 1 ? 'p[q]' : n === 2 ? '(p[q] << 8 | p[q + 1])' : '((p[q] << 24 | p[q + 1] << 16 | p[q + 2] << 8 | p[q + 3]) >>> 0)';
    if (constant !== undefined) {
      // a constant offset: the bounds test folds
      if (constant < 0) return 'return 0;';
      return `if (caplen < ${constant + n}) return 0; q = start + ${constant}; r0 = ${read};`;
    }
    return `o = ${offExpr} | 0; if (o < 0 || o + ${n} > caplen) return 0; q = start + o; r0 = ${read};`;
  };
  for (let pc = 0; pc < insns.length; pc++) {
    if (targets.has(pc)) body.push(dispatch ? `case ${pc}:` : '}');
    const i = insns[pc]!;
    const cls = BPF_CLASS(i.code);
    const op = BPF_OP(i.code);
    const bad = (): never => {
      throw new UnsupportedInstructionError(`instruction ${pc} (code 0x${i.code.toString(16)}) is outside the socket-filter subset`);
    };
    switch (cls) {
      case BPF_ALU64:
        if (pc === 0 && i.code === (BPF_ALU64 | BPF_MOV | BPF_X) && i.dst === 6 && i.src === 1) break; // r6 = ctx
        if (op === BPF_MOV) body.push(`${reg(i.dst, pc)} = ${BPF_SRC(i.code) === BPF_X ? reg(i.src, pc) : i.imm};`);
        else if (op === BPF_ADD) body.push(`${reg(i.dst, pc)} += ${BPF_SRC(i.code) === BPF_X ? reg(i.src, pc) : i.imm};`);
        else bad();
        break;
      case BPF_ALU: {
        const d = reg(i.dst, pc);
        const s = BPF_SRC(i.code) === BPF_X ? reg(i.src, pc) : `${i.imm >>> 0}`;
        const e: Record<number, string> = {
          [BPF_MOV]: `${s} >>> 0`,
          [BPF_ADD]: `(${d} + ${s}) >>> 0`,
          [BPF_SUB]: `(${d} - ${s}) >>> 0`,
          [BPF_MUL]: `Math.imul(${d}, ${s}) >>> 0`,
          [BPF_DIV]: `${s} === 0 ? 0 : Math.floor(${d} / ${s}) >>> 0`,
          [BPF_MOD]: `${s} === 0 ? ${d} : ${d} % ${s}`,
          [BPF_AND]: `(${d} & ${s}) >>> 0`,
          [BPF_OR]: `(${d} | ${s}) >>> 0`,
          [BPF_XOR]: `(${d} ^ ${s}) >>> 0`,
          [BPF_LSH]: `(${d} << (${s} & 31)) >>> 0`,
          [BPF_RSH]: `${d} >>> (${s} & 31)`,
          [BPF_NEG]: `(-${d}) >>> 0`,
        };
        if (!(op in e)) bad();
        body.push(`${d} = ${e[op]};`);
        break;
      }
      case BPF_LD:
        if (BPF_MODE(i.code) === BPF_ABS) body.push(load(BPF_SIZE(i.code), `${i.imm}`, i.imm));
        else if (BPF_MODE(i.code) === BPF_IND) body.push(load(BPF_SIZE(i.code), `(${reg(i.src, pc)} + ${i.imm})`));
        else bad();
        break;
      case BPF_LDX:
        if (BPF_MODE(i.code) !== BPF_MEM) bad();
        if (i.src === 6 && BPF_SIZE(i.code) === BPF_W) {
          const field = i.off === SKB_LEN ? 'wirelen' : i.off === SKB_VLAN_PRESENT || i.off === SKB_VLAN_TCI ? '0' : bad();
          body.push(`${reg(i.dst, pc)} = ${field};`);
        } else if (i.src === 10 && BPF_SIZE(i.code) === BPF_DW && i.off < 0) {
          stack.add(-i.off);
          body.push(`${reg(i.dst, pc)} = s${-i.off};`);
        } else bad();
        break;
      case BPF_STX:
        if (BPF_MODE(i.code) !== BPF_MEM || i.dst !== 10 || BPF_SIZE(i.code) !== BPF_DW || i.off >= 0) bad();
        stack.add(-i.off);
        body.push(`s${-i.off} = ${reg(i.src, pc)};`);
        break;
      case BPF_JMP:
      case BPF_JMP32: {
        if (op === BPF_EXIT) {
          body.push('return r0;');
          break;
        }
        const to = pc + 1 + jumpOffset(i);
        const target = dispatch ? `{ pc = ${to}; continue; }` : `break L${to};`;
        if (op === BPF_JA) {
          body.push(target);
          break;
        }
        if (cls !== BPF_JMP32) bad();
        const d = reg(i.dst, pc);
        const s = BPF_SRC(i.code) === BPF_X ? reg(i.src, pc) : `${i.imm >>> 0}`;
        const c: Record<number, string> = {
          [BPF_JEQ]: `${d} === ${s}`, [BPF_JNE]: `${d} !== ${s}`, [BPF_JGT]: `${d} > ${s}`, [BPF_JGE]: `${d} >= ${s}`,
          [BPF_JLT]: `${d} < ${s}`, [BPF_JLE]: `${d} <= ${s}`, [BPF_JSET]: `(${d} & ${s}) !== 0`,
        };
        if (!(op in c)) bad();
        body.push(`if (${c[op]}) ${target}`);
        break;
      }
      default:
        bad();
    }
  }
  if (dispatch) body.push(`case ${insns.length}:`, 'return 0;', '}');
  else if (targets.has(insns.length)) body.push('}');
  const decl = ['r0 = 0', 'r1 = 0', 'r2 = 0', 'r3 = 0', 'r4 = 0', 'r5 = 0', 'r7 = 0', 'r8 = 0', 'r9 = 0', 'o = 0', 'q = 0', 'pc = 0', ...[...stack].map((s) => `s${s} = 0`)];
  return `function filter(p, start, caplen, wirelen) {\n  let ${decl.join(', ')};\n  ${body.join('\n  ')}\n  return 0;\n}`;
}
