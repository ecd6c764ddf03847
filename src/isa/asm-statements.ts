// The assembler's statements: one line's tokens → an instruction form, and the label or map it
// refers to (asm.ts resolves those). Both syntaxes the disassembler prints, mixed freely.
import { fits, imm32, Line, LineError, off16, type Tok } from './asm-lexer.js';
import type { AluOp, AtomicOp, Form, JmpOp, Size } from './form.js';
import { helperId, helperName } from './helpers.js';
import {
  BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE,
} from './opcodes.js';

const ALU_BY_SYM: Readonly<Record<string, AluOp>> = {
  '+=': 'add', '-=': 'sub', '*=': 'mul', '/=': 'div', 's/=': 'sdiv', '|=': 'or', '&=': 'and', '<<=': 'lsh', '>>=': 'rsh', '%=': 'mod',
  's%=': 'smod', '^=': 'xor', 's>>=': 'arsh',
};
const JMP_BY_SYM: Readonly<Record<string, JmpOp>> = {
  '==': 'jeq', '>': 'jgt', '>=': 'jge', '&': 'jset', '!=': 'jne', 's>': 'jsgt', 's>=': 'jsge', '<': 'jlt', '<=': 'jle', 's<': 'jslt', 's<=': 'jsle',
};
const ATOMIC_BY_SYM: Readonly<Record<string, AtomicOp>> = { '+=': 'add', '|=': 'or', '&=': 'and', '^=': 'xor' };
const TYPES: Readonly<Record<string, { size: Size; signed: boolean }>> = {
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false }, u32: { size: 4, signed: false }, u64: { size: 8, signed: false },
  s8: { size: 1, signed: true }, s16: { size: 2, signed: true }, s32: { size: 4, signed: true },
};

/** What one statement produced: the form and, optionally, a label to resolve or a map to relocate. */
export interface Parsed {
  form: Form;
  /** a label the instruction jumps to (or calls, or loads the address of): code.ts says where its distance goes */
  label?: { name: string; col: number };
  map?: { name: string; kind: 'fd' | 'value'; offset: number };
}

export function statement(l: Line, code: number | undefined): Parsed {
  const t = l.peek()!;
  if (t.t === 'id') {
    switch (t.text) {
      case 'exit':
        l.next('exit');
        l.end();
        return { form: { kind: 'exit' } };
      case 'goto':
      case 'gotol': {
        l.next(t.text);
        const long = t.text === 'gotol';
        const target = jumpTarget(l, long ? 'imm' : 'off');
        l.end();
        if (long) return { form: { kind: 'gotol', imm: target.value }, label: target.label };
        return { form: { kind: 'ja', off: target.value }, label: target.label };
      }
      case 'may_goto': {
        l.next('may_goto');
        const target = jumpTarget(l, 'off');
        l.end();
        return { form: { kind: 'may_goto', off: target.value }, label: target.label };
      }
      case 'gotox': {
        l.next('gotox');
        const r = l.reg();
        l.end();
        return { form: { kind: 'gotox', dst: wideReg(r) } };
      }
      case 'store_release': {
        const a = acqRelAddress(l, 'store_release');
        l.op(',');
        const src = l.reg();
        l.op(')');
        l.end();
        return { form: { kind: 'store_release', size: a.size, dst: a.reg, src: src.n, off: a.off } };
      }
      case 'call':
        l.next('call');
        return call(l);
      case 'if':
        l.next('if');
        return condJump(l);
      case 'lock':
        l.next('lock');
        return lockOp(l);
      case 'ld_pseudo': {
        l.next('ld_pseudo');
        const dst = l.reg();
        l.op(',');
        const pseudoTok = l.peek();
        const pseudo = l.signed('a pseudo src number');
        if (pseudo < 0n || pseudo > 15n) throw new LineError(pseudoTok!.col, `pseudo src ${pseudo} is not 0-15`);
        l.op(',');
        const immTok = l.peek();
        const imm = l.signed('a 64-bit immediate');
        l.end();
        return { form: { kind: 'lddw', dst: wideReg(dst), pseudo: Number(pseudo), imm: imm64(imm, immTok!.col) } };
      }
    }
  }
  if (t.t === 'op' && t.text === '*') return store(l);
  if (t.t === 'reg') return assignment(l, code);
  return l.fail(t, 'an instruction');
}

function imm64(v: bigint, col: number): bigint {
  if (!fits(v, -(1n << 63n), (1n << 64n) - 1n)) throw new LineError(col, `immediate ${v} does not fit in 64 bits`);
  return BigInt.asUintN(64, v);
}
function wideReg(r: Tok & { t: 'reg' }): number {
  if (!r.wide) throw new LineError(r.col, `${r.text}: this instruction takes a 64-bit register (r${r.n})`);
  return r.n;
}
function sameWidth(a: Tok & { t: 'reg' }, b: Tok & { t: 'reg' }): void {
  if (a.wide !== b.wide) throw new LineError(b.col, `${b.text} and ${a.text} differ in width: use both r or both w`);
}

/** `+3`, `-3`, `pc+3`, `3` or a label; `field` says where a numeric offset goes. */
function jumpTarget(l: Line, field: 'off' | 'imm'): { value: number; label?: Parsed['label'] } {
  const t = l.peek();
  if (t?.t === 'id' && t.text === 'pc' && (l.isOp('+', 1) || l.isOp('-', 1))) l.next('pc');
  else if (t?.t === 'id') {
    l.next('label');
    return { value: 0, label: { name: t.text, col: t.col } };
  }
  const at = l.peek();
  const v = l.signed('a jump offset or label');
  return { value: field === 'off' ? off16(v, at!.col, 'jump offset') : imm32(v, at!.col, 'jump offset') };
}

function call(l: Line): Parsed {
  const t = l.peek();
  if (t?.t === 'id' && t.text === 'pc' && (l.isOp('+', 1) || l.isOp('-', 1))) {
    l.next('pc');
    const at = l.peek();
    const v = imm32(l.signed('a call offset'), at!.col, 'call offset');
    if (l.isOp('#')) {
      l.op('#'); // bpftool's `call pc+36#bpf_prog_<tag>_name`: the name is a comment
      l.id('a function name');
    }
    l.end();
    return { form: { kind: 'call', call: 'local', imm: v } };
  }
  if (t?.t === 'id' && t.text === 'kfunc' && (l.peek(1)?.t === 'num' || l.isOp('-', 1) || l.isOp('+', 1))) {
    l.next('kfunc');
    const at = l.peek();
    const v = imm32(l.signed('a kfunc BTF id'), at!.col, 'kfunc id');
    l.end();
    return { form: { kind: 'call', call: 'kfunc', imm: v } };
  }
  if (t?.t === 'id') {
    l.next('function name');
    if (l.isOp('#')) {
      // the kernel's `name#id`: a helper if the name is that helper, `kernel-function` or another name a kfunc
      l.op('#');
      const at = l.peek();
      const id = imm32(l.signed('a function id'), at!.col, 'function id');
      l.end();
      const known = helperId(t.text);
      if (t.text === 'unknown' || known === id) return { form: { kind: 'call', call: 'helper', imm: id } };
      if (known !== undefined) throw new LineError(at!.col, `${helperName(known)} is helper ${known}, not ${id}`);
      return { form: { kind: 'call', call: 'kfunc', imm: id } };
    }
    l.end();
    const id = helperId(t.text);
    if (id !== undefined) return { form: { kind: 'call', call: 'helper', imm: id } };
    return { form: { kind: 'call', call: 'local', imm: 0 }, label: { name: t.text, col: t.col } };
  }
  const at = l.peek();
  const v = imm32(l.signed('a helper id, helper name, pc+offset or label'), at?.col ?? 0, 'helper id');
  l.end();
  return { form: { kind: 'call', call: 'helper', imm: v } };
}

function condJump(l: Line): Parsed {
  const dst = l.reg();
  const opTok = l.next('a comparison');
  const op = opTok.t === 'op' ? JMP_BY_SYM[opTok.text] : undefined;
  if (!op) l.fail(opTok, 'a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)');
  let src: number | null = null;
  let imm = 0;
  const rhs = l.peek();
  if (rhs?.t === 'reg') {
    l.next('register');
    sameWidth(dst, rhs);
    src = rhs.n;
  } else {
    imm = imm32(l.signed('a register or immediate'), rhs?.col ?? 0);
  }
  const g = l.peek();
  if (!(g?.t === 'id' && g.text === 'goto')) l.fail(g, "'goto'");
  l.next('goto');
  const target = jumpTarget(l, 'off');
  l.end();
  return { form: { kind: 'jmp', jmp32: !dst.wide, op: op!, dst: dst.n, src, imm, off: target.value }, label: target.label };
}

/** `*(u32 *)` or `(u32 *)`: the access type. */
function typeCast(l: Line, deref: boolean): { size: Size; signed: boolean; col: number } {
  if (deref) l.op('*');
  l.op('(');
  const ty = l.id('a type (u8, u16, u32, u64, s8, s16, s32)');
  const info = TYPES[ty.text];
  if (!info) throw new LineError(ty.col, `expected a type (u8, u16, u32, u64, s8, s16, s32), found '${ty.text}'`);
  l.op('*');
  l.op(')');
  return { ...info, col: ty.col };
}

/** `(r1 + 0x8)`, `(r10 -4)`, or without parentheses `r1 + 0x8`. */
function address(l: Line, parens: boolean): { reg: number; off: number } {
  if (parens) l.op('(');
  const r = l.reg('a base register');
  let off = 0;
  if (l.isOp('+') || l.isOp('-')) {
    const neg = l.next('+ or -').text === '-';
    const at = l.peek();
    const v = l.signed('an offset');
    off = off16(neg ? -v : v, at?.col ?? 0);
  }
  if (parens) l.op(')');
  return { reg: wideReg(r), off };
}

/** `load_acquire((u32 *)(r1 + 8)` and `store_release((u32 *)(r1 + 8)`: an unsigned access size and the address. */
function acqRelAddress(l: Line, name: 'load_acquire' | 'store_release'): { size: Size; reg: number; off: number } {
  l.next(name);
  l.op('(');
  const ty = typeCast(l, false);
  if (ty.signed) throw new LineError(ty.col, `${name} takes u8, u16, u32 or u64`);
  return { size: ty.size, ...address(l, true) };
}

function store(l: Line): Parsed {
  const ty = typeCast(l, true);
  if (ty.signed) throw new LineError(ty.col, 'stores take unsigned types (u8, u16, u32, u64)');
  const a = address(l, true);
  l.op('=');
  const v = l.peek();
  if (v?.t === 'reg') {
    l.next('register');
    l.end();
    return { form: { kind: 'stx', size: ty.size, dst: a.reg, src: v.n, off: a.off } };
  }
  const imm = imm32(l.signed('a register or immediate'), v?.col ?? 0);
  l.end();
  return { form: { kind: 'st', size: ty.size, dst: a.reg, off: a.off, imm } };
}

function lockOp(l: Line): Parsed {
  const ty = typeCast(l, true);
  if (ty.size !== 4 && ty.size !== 8) throw new LineError(ty.col, 'atomics are 32 or 64-bit (u32, u64)');
  const a = address(l, true);
  const opTok = l.next('+=, |=, &= or ^=');
  const op = opTok.t === 'op' ? ATOMIC_BY_SYM[opTok.text] : undefined;
  if (!op) l.fail(opTok, '+=, |=, &= or ^=');
  const src = l.reg();
  l.end();
  return { form: { kind: 'atomic', size: ty.size, op: op!, fetch: false, dst: a.reg, src: src.n, off: a.off } };
}

const FETCH_FN = /^atomic(64)?_fetch_(add|and|or|xor)$/;
const XCHG_FN = /^(?:atomic(64)?_xchg|xchg_64|xchg32_32)$/;
const CMPXCHG_FN = /^(?:atomic(64)?_cmpxchg|cmpxchg_64|cmpxchg32_32)$/;

function assignment(l: Line, code: number | undefined): Parsed {
  const dst = l.reg();
  const opTok = l.next('an assignment');
  if (opTok.t !== 'op') l.fail(opTok, 'an assignment (=, +=, ...)');
  if (opTok.text !== '=') {
    const op = ALU_BY_SYM[opTok.text];
    if (!op) l.fail(opTok, 'an assignment (=, +=, -=, *=, /=, s/=, %=, s%=, |=, &=, ^=, <<=, >>=, s>>=)');
    const rhs = l.peek();
    if (rhs?.t === 'reg') {
      l.next('register');
      sameWidth(dst, rhs);
      l.end();
      return { form: { kind: 'alu', alu64: dst.wide, op: op!, dst: dst.n, src: rhs.n, imm: 0 } };
    }
    const imm = imm32(l.signed('a register or immediate'), rhs?.col ?? 0);
    l.end();
    return { form: { kind: 'alu', alu64: dst.wide, op: op!, dst: dst.n, src: null, imm } };
  }
  const t = l.peek();
  if (!t) return l.fail(t, 'a value');
  // dst = src
  if (t.t === 'reg') {
    l.next('register');
    sameWidth(dst, t);
    l.end();
    return { form: { kind: 'alu', alu64: dst.wide, op: 'mov', dst: dst.n, src: t.n, imm: 0 } };
  }
  // dst = (s8)src
  if (t.t === 'op' && t.text === '(') {
    l.op('(');
    const ty = l.id('s8, s16 or s32');
    const bits = ({ s8: 8, s16: 16, s32: 32 } as const)[ty.text as 's8'];
    if (!bits) throw new LineError(ty.col, `expected s8, s16 or s32, found '${ty.text}'`);
    l.op(')');
    const src = l.reg();
    sameWidth(dst, src);
    l.end();
    return { form: { kind: 'movsx', alu64: dst.wide, dst: dst.n, src: src.n, bits } };
  }
  // dst = -dst
  if (t.t === 'op' && t.text === '-' && l.peek(1)?.t === 'reg') {
    l.op('-');
    const src = l.reg();
    sameWidth(dst, src);
    if (src.n !== dst.n) throw new LineError(src.col, `negation is in place: write ${dst.text} = -${dst.text}`);
    l.end();
    return { form: { kind: 'neg', alu64: dst.wide, dst: dst.n } };
  }
  // dst = imm, dst = imm ll
  if (t.t === 'num' || (t.t === 'op' && (t.text === '-' || t.text === '+'))) {
    const v = l.signed('a value');
    const ll = l.isId('ll');
    if (ll) l.next('ll');
    l.end();
    if (ll || code === 0x18 || (dst.wide && !fits(v, -(1n << 31n), (1n << 31n) - 1n))) {
      return { form: { kind: 'lddw', dst: wideReg(dst), pseudo: 0, imm: imm64(v, t.col) } };
    }
    return { form: { kind: 'alu', alu64: dst.wide, op: 'mov', dst: dst.n, src: null, imm: imm32(v, t.col) } };
  }
  // dst = &(void __percpu *)(src): the kernel's per-CPU address mov
  if (t.t === 'op' && t.text === '&') {
    l.op('&');
    l.op('(');
    for (const word of ['void', '__percpu']) if (l.id(`'${word}'`).text !== word) l.fail(l.peek(-1), `'${word}'`);
    l.op('*');
    l.op(')');
    l.op('(');
    const src = l.reg();
    l.op(')');
    l.end();
    return { form: { kind: 'percpu', dst: wideReg(dst), src: wideReg(src) } };
  }
  // dst = *(size *)(src + off), r0 = *(size *)skb[...]
  if (t.t === 'op' && t.text === '*') {
    const ty = typeCast(l, true);
    if (l.isId('skb')) return packetLoad(l, dst, ty);
    const a = address(l, true);
    l.end();
    if (!dst.wide && (ty.signed || ty.size === 8)) throw new LineError(dst.col, `${dst.text}: a ${ty.signed ? 'sign-extending' : '64-bit'} load needs an r register`);
    if (ty.signed && ty.size === 8) throw new LineError(ty.col, 'there is no s64 load; use u64');
    return { form: { kind: 'ldx', size: ty.size, signed: ty.signed, dst: dst.n, src: a.reg, off: a.off } };
  }
  if (t.t === 'id') {
    const end = /^(le|be|bswap)(16|32|64)$/.exec(t.text);
    if (end) {
      l.next('byte swap');
      const src = l.reg();
      if (src.n !== dst.n) throw new LineError(src.col, `byte swaps are in place: write ${dst.text} = ${t.text} ${dst.text}`);
      l.end();
      const bits = Number(end[2]) as 16 | 32 | 64;
      if (end[1] === 'bswap') return { form: { kind: 'bswap', dst: dst.n, bits } };
      return { form: { kind: 'end', order: end[1] as 'le' | 'be', dst: dst.n, bits } };
    }
    if (t.text === 'map' || t.text === 'subprog' || t.text === 'btf_id') return pseudoLoad(l, dst);
    if (t.text === 'load_acquire') {
      const a = acqRelAddress(l, 'load_acquire');
      l.op(')');
      l.end();
      return { form: { kind: 'load_acquire', size: a.size, dst: dst.n, src: a.reg, off: a.off } };
    }
    if (t.text === 'addr_space_cast') {
      l.next('addr_space_cast');
      l.op('(');
      const src = l.reg();
      l.op(',');
      const as = (): number => {
        const at = l.peek();
        const v = l.signed('an address space');
        if (!fits(v, 0n, 0xffffn)) throw new LineError(at?.col ?? 0, `address space ${v} is not 0-65535`);
        return Number(v);
      };
      const dstAs = as();
      l.op(',');
      const srcAs = as();
      l.op(')');
      l.end();
      return { form: { kind: 'addr_space_cast', dst: wideReg(dst), src: wideReg(src), dstAs, srcAs } };
    }
    if (FETCH_FN.test(t.text) || XCHG_FN.test(t.text) || CMPXCHG_FN.test(t.text)) return atomicFn(l, dst);
  }
  return l.fail(t, 'a register, immediate, memory load, byte swap, map reference or atomic operation');
}

function packetLoad(l: Line, dst: Tok & { t: 'reg' }, ty: { size: Size; signed: boolean; col: number }): Parsed {
  l.next('skb');
  if (dst.n !== 0 || !dst.wide) throw new LineError(dst.col, 'packet loads always load into r0');
  if (ty.signed || ty.size === 8) throw new LineError(ty.col, 'packet loads are u8, u16 or u32');
  const size = ty.size as 1 | 2 | 4;
  l.op('[');
  const r = l.peek();
  if (r?.t === 'reg') {
    l.next('register');
    let imm = 0;
    if (l.isOp('+') || l.isOp('-')) {
      const neg = l.next('+ or -').text === '-';
      const at = l.peek();
      const v = l.signed('an offset');
      imm = imm32(neg ? -v : v, at?.col ?? 0, 'offset');
    }
    l.op(']');
    l.end();
    return { form: { kind: 'ldind', size, src: wideReg(r), imm } };
  }
  const imm = imm32(l.signed('an offset or register'), r?.col ?? 0, 'offset');
  l.op(']');
  l.end();
  return { form: { kind: 'ldabs', size, imm } };
}

/** map[NAME], map[NAME][0]+OFF, map[id:N], map[id:N][0]+M, map[idx:N], map[idx:N]+M, subprog[+N|LABEL], btf_id[N][obj:M] */
function pseudoLoad(l: Line, dstTok: Tok & { t: 'reg' }): Parsed {
  const dst = wideReg(dstTok);
  const kw = l.id('map, subprog or btf_id');
  const done = (p: Parsed): Parsed => {
    if (l.isId('ll')) l.next('ll');
    l.end();
    return p;
  };
  const u32 = (what: string): number => {
    const at = l.peek();
    const v = l.signed(what);
    if (!fits(v, 0n, 0xffffffffn)) throw new LineError(at?.col ?? 0, `${what} ${v} is not an unsigned 32-bit number`);
    return Number(v);
  };
  const plusOffset = (): number => {
    if (!l.isOp('+')) return 0;
    l.op('+');
    return u32('a value offset');
  };
  const lddw = (pseudo: number, lo: number, hi = 0): Form => ({ kind: 'lddw', dst, pseudo, imm: (BigInt(hi) << 32n) | BigInt(lo) });
  l.op('[');
  if (kw.text === 'subprog') {
    const t = l.peek();
    if (t?.t === 'id') {
      l.next('label');
      l.op(']');
      return done({ form: lddw(BPF_PSEUDO_FUNC, 0), label: { name: t.text, col: t.col } });
    }
    const v = imm32(l.signed('an offset or label'), t?.col ?? 0, 'subprog offset');
    l.op(']');
    return done({ form: lddw(BPF_PSEUDO_FUNC, v >>> 0) });
  }
  if (kw.text === 'btf_id') {
    const id = u32('a BTF id');
    l.op(']');
    let obj = 0;
    if (l.isOp('[')) {
      l.op('[');
      const o = l.id("'obj'");
      if (o.text !== 'obj') l.fail(o, "'obj'");
      l.op(':');
      obj = u32('a BTF object fd');
      l.op(']');
    }
    return done({ form: lddw(BPF_PSEUDO_BTF_ID, id, obj) });
  }
  // map[...]
  const name = l.id('a map name, id:N or idx:N');
  if ((name.text === 'id' || name.text === 'idx') && l.isOp(':')) {
    l.op(':');
    const n = u32('a map id');
    l.op(']');
    if (name.text === 'idx') {
      if (!l.isOp('+')) return done({ form: lddw(BPF_PSEUDO_MAP_IDX, n) });
      return done({ form: lddw(BPF_PSEUDO_MAP_IDX_VALUE, n, plusOffset()) });
    }
    if (!l.isOp('[')) return done({ form: lddw(BPF_PSEUDO_MAP_FD, n) });
    valueIndex(l);
    return done({ form: lddw(BPF_PSEUDO_MAP_VALUE, n, plusOffset()) });
  }
  l.op(']');
  if (!l.isOp('[')) return done({ form: lddw(BPF_PSEUDO_MAP_FD, 0), map: { name: name.text, kind: 'fd', offset: 0 } });
  valueIndex(l);
  const offset = plusOffset();
  return done({ form: lddw(BPF_PSEUDO_MAP_VALUE, 0, offset), map: { name: name.text, kind: 'value', offset } });
}

/** The `[0]` of map[...][0]: direct value access is to element 0 only. */
function valueIndex(l: Line): void {
  l.op('[');
  const at = l.peek();
  if (l.signed('0') !== 0n) throw new LineError(at?.col ?? 0, 'direct map value access is to element [0] only');
  l.op(']');
}

/** atomic_fetch_add((u64 *)(r1 + 0), r2), xchg_64(r1 + 0, r2), cmpxchg_64(r1 + 0, r0, r2) and the kernel's atomic64_* */
function atomicFn(l: Line, dst: Tok & { t: 'reg' }): Parsed {
  const fn = l.id('an atomic function');
  l.op('(');
  let size: 4 | 8;
  let a: { reg: number; off: number };
  const kernel64 = /^atomic64_/.test(fn.text);
  const kernel32 = /^atomic_/.test(fn.text) && !FETCH_FN.test(fn.text);
  if (FETCH_FN.test(fn.text) || kernel64 || kernel32) {
    const ty = typeCast(l, false);
    if (ty.signed || (ty.size !== 4 && ty.size !== 8)) throw new LineError(ty.col, 'atomics are u32 or u64');
    size = ty.size;
    if (kernel64 && size !== 8) throw new LineError(ty.col, `${fn.text} is 64-bit: use (u64 *)`);
    if (/^atomic_(xchg|cmpxchg)$/.test(fn.text) && size !== 4) throw new LineError(ty.col, `${fn.text} is 32-bit: use (u32 *) or atomic64_`);
    a = address(l, true);
  } else {
    size = /32_32$/.test(fn.text) ? 4 : 8;
    a = address(l, false);
  }
  l.op(',');
  if (CMPXCHG_FN.test(fn.text)) {
    const r0 = l.reg('r0');
    if (r0.n !== 0 || dst.n !== 0) throw new LineError(r0.n !== 0 ? r0.col : dst.col, 'cmpxchg compares with and returns in r0');
    l.op(',');
    const src = l.reg();
    l.op(')');
    l.end();
    return { form: { kind: 'atomic', size, op: 'cmpxchg', fetch: true, dst: a.reg, src: src.n, off: a.off } };
  }
  const src = l.reg();
  l.op(')');
  l.end();
  if (src.n !== dst.n) throw new LineError(src.col, `the value register is also the result: write ${src.text} = ${fn.text}(..., ${src.text})`);
  const m = FETCH_FN.exec(fn.text);
  const op: AtomicOp = m ? (m[2] as AtomicOp) : 'xchg';
  return { form: { kind: 'atomic', size, op, fetch: true, dst: a.reg, src: src.n, off: a.off } };
}
