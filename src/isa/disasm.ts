// Disassembler for every RFC 9669 instruction form, in two syntaxes:
//  - 'llvm' (default): what `llvm-objdump -d` prints for BPF objects (`r0 = 0x0`, `if r1 > 0x5 goto +0x3`,
//    `*(u32 *)(r10 - 0x4) = r1`, `r1 = 0x1122 ll`, `call 0x1`, `lock *(u64 *)(r1 + 0x0) += r2`). Immediates
//    are hex by default (llvm-objdump's default since LLVM 15; `hex: false` gives LLVM 14's decimal).
//    32-bit loads/stores use r registers as plain `llvm-objdump` does, w registers with `alu32: true`
//    (like `--mattr=+alu32`); forms LLVM only decodes in alu32 mode (32-bit fetch atomics, xchg32,
//    cmpxchg32, 32-bit and/or/xor) are printed in that syntax. Forms newer than LLVM 14 use the
//    spelling of newer LLVM (`r1 s/= r2`, `r1 = (s8)r2`, `r1 = bswap16 r1`, `r1 = *(s8 *)(r2 + 0x0)`,
//    `*(u32 *)(r1 + 0x0) = 0x7`, `if r1 & r2 goto +0x1`, `gotol +0x100`).
//    Where LLVM's text loses bits we print an unambiguous extension instead, so that the assembler
//    gets the exact instruction back: local calls `call pc+0x5` (LLVM: `call 5`), kfunc calls
//    `call kfunc 0x1234`, packet loads with an offset `r0 = *(u8 *)skb[r1 + 0x7]`, and pseudo lddw keeps
//    all 64 bits in `ld_pseudo\tr1, 0x2, 0x400000003`.
//  Also the forms Linux added after RFC 9669 (may_goto, gotox, load_acquire, store_release,
//  addr_space_cast) and the per-CPU mov of translated programs.
//  - 'kernel': the verifier log / bpftool xlated syntax of kernel/bpf/disasm.c, with the opcode in
//    front: `(b7) r0 = 0`, `(85) call bpf_map_lookup_elem#1`, `(18) r1 = map[id:3]`, `(15) if r1 == 0x0 goto pc+3`.
// Map references print as `r1 = map[NAME] ll` / `r1 = map[NAME][0] + 0x8 ll` when mapName() names them.
// Like both reference disassemblers, reserved fields are ignored when printing (see laxForm); only
// canonical encodings therefore survive disassemble -> assemble bit for bit.
import { laxForm, branchTarget, type Form, type Size } from './form.js';
import { helperName } from './helpers.js';
import type { Instruction } from './instruction.js';
import type { MapReference } from './relocation.js';
import {
  BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE,
} from './opcodes.js';

export type DisasmStyle = 'llvm' | 'kernel';
/** What mapName() may return: a map name, or the full reference (kind and offset). */
export type MapNameResult = string | Omit<MapReference, 'slot'> | undefined;

export interface DisasmOptions {
  style?: DisasmStyle;
  /** llvm style: hexadecimal immediates (default true, like llvm-objdump ≥ 15 / --print-imm-hex). */
  hex?: boolean;
  /** llvm style: w registers in 32-bit loads and stores (llvm-objdump --mattr=+alu32). */
  alu32?: boolean;
  /** disassemble(), llvm style: the instruction bytes column llvm-objdump prints without --no-show-raw-insn. */
  rawBytes?: boolean;
  /** C source line for a slot (from BTF line info), printed as `; line` where it changes. */
  source?: (slot: number) => string | undefined;
  /** Symbol (function or label) starting at a slot: printed as a label line and after jumps to it. */
  symbols?: (slot: number) => string | undefined;
  /** Name of the map an lddw at a slot refers to (from relocations or the loaded program). */
  mapName?: (slot: number) => MapNameResult;
  /** Name of the function a call at a slot calls (kfunc name, or subprogram). */
  callee?: (slot: number) => string | undefined;
}

const SIZE_NAME: Readonly<Record<Size, string>> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };
const SIGNED_NAME: Readonly<Record<number, string>> = { 1: 's8', 2: 's16', 4: 's32' };
const ALU_SYM = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', or: '|=', and: '&=', lsh: '<<=', rsh: '>>=', mod: '%=', smod: 's%=',
  xor: '^=', mov: '=', arsh: 's>>=',
} as const;
const JMP_SYM = {
  jeq: '==', jgt: '>', jge: '>=', jset: '&', jne: '!=', jsgt: 's>', jsge: 's>=', jlt: '<', jle: '<=', jslt: 's<', jsle: 's<=',
} as const;
const ATOMIC_SYM = { add: '+=', or: '|=', and: '&=', xor: '^=' } as const;

/** The text of the instruction at `slot` (no slot number; kernel style includes the `(code)` prefix). */
export function formatInstruction(insns: readonly Instruction[], slot: number, opts: DisasmOptions = {}): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= insns.length) throw new RangeError(`slot ${slot} is outside the program (${insns.length} slots)`);
  const form = laxForm(insns, slot);
  if (opts.style === 'kernel') return `(${insns[slot]!.code.toString(16).padStart(2, '0')}) ${kernelText(form, slot, opts)}`;
  return llvmText(form, slot, opts);
}

/** A listing of the whole program: one line per instruction, `slot: text`, with labels and source lines. */
export function disassemble(insns: readonly Instruction[], opts: DisasmOptions = {}): string {
  const kernel = opts.style === 'kernel';
  let out = '';
  let lastSource: string | undefined;
  for (let slot = 0; slot < insns.length; ) {
    const sym = opts.symbols?.(slot);
    if (sym !== undefined) {
      if (kernel) out += `${sym}:\n`;
      else out += `${out ? '\n' : ''}${(slot * 8).toString(16).padStart(16, '0')} <${sym}>:\n`;
    }
    const src = opts.source?.(slot);
    if (src !== undefined && src !== lastSource) out += `; ${src.replace(/\s*\n\s*/g, ' ')}\n`; // one comment line
    if (src !== undefined) lastSource = src;
    const form = laxForm(insns, slot);
    // bpftool's "% 4d: " and llvm-objdump's "%8d:\t"
    if (kernel) out += `${` ${slot}`.padStart(4)}: (${insns[slot]!.code.toString(16).padStart(2, '0')}) ${kernelText(form, slot, opts)}\n`;
    else out += `${String(slot).padStart(8)}:\t${opts.rawBytes ? `${hexBytes(insns, slot, form.kind === 'lddw' ? 2 : 1)}\t` : ''}${llvmText(form, slot, opts)}\n`;
    slot += form.kind === 'lddw' ? 2 : 1;
  }
  return out;
}

function mapRef(form: Extract<Form, { kind: 'lddw' }>, slot: number, opts: DisasmOptions): Omit<MapReference, 'slot'> | undefined {
  const r = opts.mapName?.(slot);
  if (r === undefined) return undefined;
  if (typeof r !== 'string') return r;
  const value = form.pseudo === BPF_PSEUDO_MAP_VALUE || form.pseudo === BPF_PSEUDO_MAP_IDX_VALUE;
  return { map: r, kind: value ? 'value' : 'fd', offset: value ? Number(form.imm >> 32n) : 0 };
}

// llvm style number formatting (LLVM's formatImm): signed, hex unless `hex` is false.
function fmt(v: number | bigint, hex: boolean): string {
  if (!hex) return String(v);
  return v < 0 ? `-0x${(typeof v === 'bigint' ? -v : -v).toString(16)}` : `0x${v.toString(16)}`;
}
const wreg = (alu64: boolean): string => (alu64 ? 'r' : 'w');

/** The forms both syntaxes write alike (registers only), or undefined. */
function registerText(f: Form): string | undefined {
  const w = wreg;
  switch (f.kind) {
    case 'movsx':
      return `${w(f.alu64)}${f.dst} = (s${f.bits})${w(f.alu64)}${f.src}`;
    case 'neg':
      return `${w(f.alu64)}${f.dst} = -${w(f.alu64)}${f.dst}`;
    case 'end':
      return `r${f.dst} = ${f.order}${f.bits} r${f.dst}`;
    case 'bswap':
      return `r${f.dst} = bswap${f.bits} r${f.dst}`;
    default:
      return undefined;
  }
}

function llvmText(f: Form, slot: number, opts: DisasmOptions): string {
  const hex = opts.hex ?? true;
  const num = (v: number | bigint): string => fmt(v, hex);
  const rel = (v: number): string => (v >= 0 ? `+${fmt(v, hex)}` : fmt(v, hex));
  const mem = (r: number, off: number): string => (off >= 0 ? `(r${r} + ${fmt(off, hex)})` : `(r${r} - ${fmt(-off, hex)})`);
  const target = (t: number | undefined): string => {
    const name = t === undefined || !opts.symbols ? undefined : opts.symbols(t);
    return name === undefined ? '' : ` <${name}>`;
  };
  const w = wreg;
  switch (f.kind) {
    case 'alu': {
      const rhs = f.src === null ? num(f.imm) : `${w(f.alu64)}${f.src}`;
      return `${w(f.alu64)}${f.dst} ${ALU_SYM[f.op]} ${rhs}`;
    }
    case 'movsx': case 'neg': case 'end': case 'bswap':
      return registerText(f)!;
    case 'ldx': {
      const d = opts.alu32 && !f.signed && f.size < 8 ? 'w' : 'r';
      return `${d}${f.dst} = *(${f.signed ? SIGNED_NAME[f.size] : SIZE_NAME[f.size]} *)${mem(f.src, f.off)}`;
    }
    case 'stx':
      return `*(${SIZE_NAME[f.size]} *)${mem(f.dst, f.off)} = ${opts.alu32 && f.size < 8 ? 'w' : 'r'}${f.src}`;
    case 'st':
      return `*(${SIZE_NAME[f.size]} *)${mem(f.dst, f.off)} = ${num(f.imm)}`;
    case 'atomic': {
      const a = mem(f.dst, f.off);
      const addr = a.slice(1, -1); // xchg and cmpxchg take the address without parentheses
      if (f.size === 8) {
        if (f.op === 'xchg') return `r${f.src} = xchg_64(${addr}, r${f.src})`;
        if (f.op === 'cmpxchg') return `r0 = cmpxchg_64(${addr}, r0, r${f.src})`;
        if (f.fetch) return `r${f.src} = atomic_fetch_${f.op}((u64 *)${a}, r${f.src})`;
        return `lock *(u64 *)${a} ${ATOMIC_SYM[f.op]} r${f.src}`;
      }
      if (f.op === 'xchg') return `w${f.src} = xchg32_32(${addr}, w${f.src})`;
      if (f.op === 'cmpxchg') return `w0 = cmpxchg32_32(${addr}, w0, w${f.src})`;
      if (f.fetch) return `w${f.src} = atomic_fetch_${f.op}((u32 *)${a}, w${f.src})`;
      // LLVM's non-alu32 decoder knows only the 32-bit atomic add (as the old XADDW)
      return `lock *(u32 *)${a} ${ATOMIC_SYM[f.op]} ${f.op === 'add' && !opts.alu32 ? 'r' : 'w'}${f.src}`;
    }
    case 'ldabs':
      return `r0 = *(${SIZE_NAME[f.size]} *)skb[${num(f.imm)}]`;
    case 'ldind':
      return `r0 = *(${SIZE_NAME[f.size]} *)skb[r${f.src}${f.imm === 0 ? '' : f.imm > 0 ? ` + ${num(f.imm)}` : ` - ${num(-f.imm)}`}]`;
    case 'lddw': {
      const signed = BigInt.asIntN(64, f.imm);
      const ref = mapRef(f, slot, opts);
      if (ref && mapRefFits(f, ref)) {
        return ref.kind === 'fd' ? `r${f.dst} = map[${ref.map}] ll` : `r${f.dst} = map[${ref.map}][0] + ${num(ref.offset)} ll`;
      }
      if (f.pseudo === 0) return `r${f.dst} = ${num(signed)} ll`;
      return `ld_pseudo\tr${f.dst}, ${num(f.pseudo)}, ${num(signed)}`;
    }
    case 'jmp': {
      const rhs = f.src === null ? num(f.imm) : `${w(!f.jmp32)}${f.src}`;
      return `if ${w(!f.jmp32)}${f.dst} ${JMP_SYM[f.op]} ${rhs} goto ${rel(f.off)}${target(branchTarget(f, slot))}`;
    }
    case 'ja':
      return `goto ${rel(f.off)}${target(branchTarget(f, slot))}`;
    case 'gotol':
      return `gotol ${rel(f.imm)}${target(branchTarget(f, slot))}`;
    case 'call': {
      const name = opts.callee?.(slot);
      if (f.call === 'helper') return `call ${num(f.imm)}`;
      if (f.call === 'kfunc') return `call kfunc ${num(f.imm)}${name === undefined ? '' : ` <${name}>`}`;
      const t = name === undefined ? target(branchTarget(f, slot)) : ` <${name}>`;
      return `call pc${rel(f.imm)}${t}`;
    }
    case 'exit':
      return 'exit';
    case 'may_goto':
      return `may_goto ${rel(f.off)}${target(branchTarget(f, slot))}`;
    case 'gotox':
      return `gotox r${f.dst}`;
    case 'load_acquire':
      return `${f.size < 8 ? 'w' : 'r'}${f.dst} = load_acquire((${SIZE_NAME[f.size]} *)${mem(f.src, f.off)})`;
    case 'store_release':
      return `store_release((${SIZE_NAME[f.size]} *)${mem(f.dst, f.off)}, ${f.size < 8 ? 'w' : 'r'}${f.src})`;
    case 'addr_space_cast':
      return `r${f.dst} = addr_space_cast(r${f.src}, ${num(f.dstAs)}, ${num(f.srcAs)})`;
    case 'percpu': // kernel-internal: no LLVM spelling, so the kernel's
      return `r${f.dst} = &(void __percpu *)(r${f.src})`;
    case 'invalid':
      return '<unknown>';
  }
}

/** A named reference replaces the instruction text only if the instruction holds nothing else. */
function mapRefFits(f: Extract<Form, { kind: 'lddw' }>, ref: Omit<MapReference, 'slot'>): boolean {
  if (ref.kind === 'fd') return (f.pseudo === 0 || f.pseudo === BPF_PSEUDO_MAP_FD || f.pseudo === BPF_PSEUDO_MAP_IDX) && f.imm >> 32n === 0n;
  // a value reference: the offset lives in the second slot once src is BPF_PSEUDO_MAP_VALUE
  if (f.pseudo === BPF_PSEUDO_MAP_VALUE || f.pseudo === BPF_PSEUDO_MAP_IDX_VALUE) return Number(f.imm >> 32n) === ref.offset;
  return f.pseudo === 0;
}

function kernelText(f: Form, slot: number, opts: DisasmOptions): string {
  const w = wreg;
  const mem = (r: number, off: number): string => `(r${r} ${sgn(off)})`;
  switch (f.kind) {
    case 'alu':
      return `${w(f.alu64)}${f.dst} ${ALU_SYM[f.op]} ${f.src === null ? f.imm : `${w(f.alu64)}${f.src}`}`;
    case 'movsx': case 'neg': case 'end': case 'bswap':
      return registerText(f)!;
    case 'ldx':
      return `r${f.dst} = *(${f.signed ? SIGNED_NAME[f.size] : SIZE_NAME[f.size]} *)${mem(f.src, f.off)}`;
    case 'stx':
      return `*(${SIZE_NAME[f.size]} *)${mem(f.dst, f.off)} = r${f.src}`;
    case 'st':
      return `*(${SIZE_NAME[f.size]} *)${mem(f.dst, f.off)} = ${f.imm}`;
    case 'atomic': {
      const ty = `(${SIZE_NAME[f.size]} *)${mem(f.dst, f.off)}`;
      const bits = f.size === 8 ? '64' : '';
      if (f.op === 'cmpxchg') return `r0 = atomic${bits}_cmpxchg(${ty}, r0, r${f.src})`;
      if (f.op === 'xchg') return `r${f.src} = atomic${bits}_xchg(${ty}, r${f.src})`;
      if (f.fetch) return `r${f.src} = atomic${bits}_fetch_${f.op}(${ty}, r${f.src})`;
      return `lock *${ty} ${ATOMIC_SYM[f.op]} r${f.src}`;
    }
    case 'ldabs':
      return `r0 = *(${SIZE_NAME[f.size]} *)skb[${f.imm}]`;
    case 'ldind':
      return `r0 = *(${SIZE_NAME[f.size]} *)skb[r${f.src} + ${f.imm}]`;
    case 'lddw':
      return `r${f.dst} = ${kernelImm64(f, slot, opts)}`;
    case 'jmp': {
      const rhs = f.src === null ? `0x${(f.imm >>> 0).toString(16)}` : `${w(!f.jmp32)}${f.src}`;
      return `if ${w(!f.jmp32)}${f.dst} ${JMP_SYM[f.op]} ${rhs} goto pc${sgn(f.off)}`;
    }
    case 'ja':
      return `goto pc${sgn(f.off)}`;
    case 'gotol':
      return `gotol pc${sgn(f.imm)}`;
    case 'call': {
      if (f.call === 'local') {
        const name = opts.callee?.(slot);
        return `call pc${sgn(f.imm)}${name === undefined ? '' : `#${name}`}`; // bpftool names the target
      }
      if (f.call === 'kfunc') return `call ${opts.callee?.(slot) ?? 'kernel-function'}#${f.imm}`;
      return `call ${helperName(f.imm) ?? 'unknown'}#${f.imm}`;
    }
    case 'exit':
      return 'exit';
    case 'may_goto':
      return `may_goto pc${sgn(f.off)}`;
    case 'gotox':
      return `gotox r${f.dst}`;
    case 'load_acquire':
      return `r${f.dst} = load_acquire((${SIZE_NAME[f.size]} *)${mem(f.src, f.off)})`;
    case 'store_release':
      return `store_release((${SIZE_NAME[f.size]} *)${mem(f.dst, f.off)}, r${f.src})`;
    case 'addr_space_cast':
      return `r${f.dst} = addr_space_cast(r${f.src}, ${f.dstAs}, ${f.srcAs})`;
    case 'percpu':
      return `r${f.dst} = &(void __percpu *)(r${f.src})`;
    case 'invalid':
      return '<unknown>';
  }
}

/** The little-endian bytes of `n` slots, as llvm-objdump shows them: "b7 01 00 00 05 00 00 00". */
function hexBytes(insns: readonly Instruction[], slot: number, n: number): string {
  const b: number[] = [];
  for (let k = slot; k < slot + n; k++) {
    const i = insns[k]!;
    b.push(i.code, ((i.src & 0xf) << 4) | (i.dst & 0xf), i.off & 0xff, (i.off >> 8) & 0xff, i.imm & 0xff, (i.imm >>> 8) & 0xff, (i.imm >>> 16) & 0xff, i.imm >>> 24);
  }
  return b.map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

const sgn = (v: number): string => (v >= 0 ? `+${v}` : `${v}`);

/** bpftool's spelling of lddw immediates (print_imm in xlated_dumper.c), extended to every pseudo src. */
function kernelImm64(f: Extract<Form, { kind: 'lddw' }>, slot: number, opts: DisasmOptions): string {
  const lo = Number(f.imm & 0xffffffffn);
  const hi = Number(f.imm >> 32n);
  const ref = mapRef(f, slot, opts);
  if (ref && mapRefFits(f, ref)) return ref.kind === 'fd' ? `map[${ref.map}]` : `map[${ref.map}][0]+${ref.offset}`;
  switch (f.pseudo) {
    case 0:
      return `0x${f.imm.toString(16)}`;
    case BPF_PSEUDO_MAP_FD:
      return `map[id:${lo}]`;
    case BPF_PSEUDO_MAP_VALUE:
      return `map[id:${lo}][0]+${hi}`;
    case BPF_PSEUDO_MAP_IDX:
      return `map[idx:${lo}]`;
    case BPF_PSEUDO_MAP_IDX_VALUE:
      return `map[idx:${lo}]+${hi}`;
    case BPF_PSEUDO_FUNC:
      return `subprog[${sgn(lo | 0)}]`;
    case BPF_PSEUDO_BTF_ID:
      return hi === 0 ? `btf_id[${lo}]` : `btf_id[${lo}][obj:${hi}]`;
    default:
      return `0x${f.imm.toString(16)}`; // unreachable: decodeForm admits pseudo 0-6 only
  }
}
