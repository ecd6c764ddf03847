// A programmatic builder for code generators: typed emitters for every instruction form, labels
// resolved at build() (forward and backward, range-checked; code.ts), map references as relocations,
// and the source span of every slot (for error messages and disassembly). Registers are numbers 0-10
// (R0..R10); an immediate operand is written imm(5), so a number is always a register and never
// silently an immediate.
import { insnItem, labelItem, LabelError, resolveLabels, type CodeItem, type Label, type SourceSpan } from './code.js';
import { encodeForm, FormError, JMP_OPS, type AluOp, type AtomicOp, type Form, type JmpOp, type Size } from './form.js';
import { helperId, type HelperName } from './helpers.js';
import type { Instruction } from './instruction.js';
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from './opcodes.js';
import type { MapReference } from './relocation.js';

export const R0 = 0;
export const R1 = 1;
export const R2 = 2;
export const R3 = 3;
export const R4 = 4;
export const R5 = 5;
export const R6 = 6;
export const R7 = 7;
export const R8 = 8;
export const R9 = 9;
export const R10 = 10;
const MAX_REG = R10;
/** The read-only frame pointer. */
export const FP = R10;

export interface Imm {
  imm: number;
}
/** An immediate operand (signed or unsigned 32-bit). */
export const imm = (value: number): Imm => ({ imm: value });
/** A register (0-10) or an immediate. */
export type Operand = number | Imm;
export type JmpCond = '==' | '!=' | '>' | '>=' | '<' | '<=' | 's>' | 's>=' | 's<' | 's<=' | '&' | JmpOp;
export type MemType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32';
export type AtomicKind = AtomicOp | 'fetch_add' | 'fetch_or' | 'fetch_and' | 'fetch_xor';

const COND: Readonly<Record<string, JmpOp>> = {
  '==': 'jeq', '!=': 'jne', '>': 'jgt', '>=': 'jge', '<': 'jlt', '<=': 'jle', 's>': 'jsgt', 's>=': 'jsge', 's<': 'jslt', 's<=': 'jsle', '&': 'jset',
};
const MEM: Readonly<Record<MemType, { size: Size; signed: boolean }>> = {
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false }, u32: { size: 4, signed: false }, u64: { size: 8, signed: false },
  s8: { size: 1, signed: true }, s16: { size: 2, signed: true }, s32: { size: 4, signed: true },
};

export class BuilderError extends Error {}

export interface BuilderOptions {
  /** Let build() turn a `goto` whose target is beyond 16 bits into `gotol` (cpu v4). Default true. */
  longJumps?: boolean;
}

export interface BuildResult {
  insns: Instruction[];
  relocations: MapReference[];
  labels: Map<string, number>;
  /** the source span of each slot (see at()) */
  spans: (SourceSpan | undefined)[];
}

/** Memory types by access width, unsigned (what stores take). */
export const UNSIGNED: Readonly<Record<Size, 'u8' | 'u16' | 'u32' | 'u64'>> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };

export class Builder {
  private readonly code: CodeItem[] = [];
  private readonly relocations: MapReference[] = [];
  private readonly ids = new Map<string, Label>();
  private readonly names: string[] = [];
  private readonly placed = new Map<string, number>();
  private slots = 0;
  private fresh = 0;
  private span: SourceSpan | undefined;

  constructor(private readonly opts: BuilderOptions = {}) {}

  /** Slots emitted so far (the slot the next instruction will take). */
  get length(): number {
    return this.slots;
  }

  /** Attribute the instructions emitted from now on to `span` (undefined: to nothing). */
  at(span: SourceSpan | undefined): this {
    this.span = span;
    return this;
  }

  /** The span instructions are attributed to now. */
  get currentSpan(): SourceSpan | undefined {
    return this.span;
  }

  /** Place label `name` at the next instruction. */
  label(name: string): this {
    const was = this.placed.get(name);
    if (was !== undefined) throw new BuilderError(`label '${name}' is already placed at slot ${was}`);
    this.placed.set(name, this.slots);
    this.code.push(labelItem(this.labelOf(name)));
    return this;
  }

  /** A label name no other newLabel() call returns (place it with label()). */
  newLabel(hint = 'L'): string {
    return `.${hint}${this.fresh++}`;
  }

  /** The number standing for label `name` in items(). */
  labelOf(name: string): Label {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /**
   * The labelled code emitted so far (not a copy), for a pass that rewrites it before resolving the
   * labels itself (code.ts, resolveLabels). Labels are numbered below labelCount.
   */
  items(): readonly CodeItem[] {
    return this.code;
  }

  /** How many label numbers are taken (a pass adding labels starts here). */
  get labelCount(): number {
    return this.names.length;
  }

  /** Emit one instruction form; `target` is the label a jump's offset (or pc-relative imm) goes to. */
  emit(form: Form, target?: string): this {
    let insns: Instruction[];
    try {
      insns = encodeForm(form);
      const reg = insns[0]!.dst > MAX_REG ? insns[0]!.dst : form.kind !== 'lddw' && form.kind !== 'call' && insns[0]!.src > MAX_REG ? insns[0]!.src : -1;
      if (reg >= 0) throw new FormError(`register r${reg} is the kernel's own (programs have r0-r10)`);
    } catch (e) {
      if (e instanceof FormError) throw new BuilderError(`slot ${this.slots}${this.where()}: ${e.message}`);
      throw e;
    }
    const t = target === undefined ? -1 : this.labelOf(target);
    insns.forEach((i, k) => this.code.push(insnItem(i, k === 0 ? t : -1, this.span)));
    this.slots += insns.length;
    return this;
  }

  /** Emit raw slots as they are (no validation). */
  raw(...insns: Instruction[]): this {
    for (const i of insns) this.code.push(insnItem({ ...i }, -1, this.span));
    this.slots += insns.length;
    return this;
  }

  alu64(op: AluOp, dst: number, src: Operand): this {
    return this.emit(aluForm(true, op, dst, src));
  }
  alu32(op: AluOp, dst: number, src: Operand): this {
    return this.emit(aluForm(false, op, dst, src));
  }
  mov64 = (dst: number, src: Operand): this => this.alu64('mov', dst, src);
  add64 = (dst: number, src: Operand): this => this.alu64('add', dst, src);
  sub64 = (dst: number, src: Operand): this => this.alu64('sub', dst, src);
  mul64 = (dst: number, src: Operand): this => this.alu64('mul', dst, src);
  div64 = (dst: number, src: Operand): this => this.alu64('div', dst, src);
  sdiv64 = (dst: number, src: Operand): this => this.alu64('sdiv', dst, src);
  mod64 = (dst: number, src: Operand): this => this.alu64('mod', dst, src);
  smod64 = (dst: number, src: Operand): this => this.alu64('smod', dst, src);
  or64 = (dst: number, src: Operand): this => this.alu64('or', dst, src);
  and64 = (dst: number, src: Operand): this => this.alu64('and', dst, src);
  xor64 = (dst: number, src: Operand): this => this.alu64('xor', dst, src);
  lsh64 = (dst: number, src: Operand): this => this.alu64('lsh', dst, src);
  rsh64 = (dst: number, src: Operand): this => this.alu64('rsh', dst, src);
  arsh64 = (dst: number, src: Operand): this => this.alu64('arsh', dst, src);
  mov32 = (dst: number, src: Operand): this => this.alu32('mov', dst, src);
  add32 = (dst: number, src: Operand): this => this.alu32('add', dst, src);
  sub32 = (dst: number, src: Operand): this => this.alu32('sub', dst, src);
  mul32 = (dst: number, src: Operand): this => this.alu32('mul', dst, src);
  div32 = (dst: number, src: Operand): this => this.alu32('div', dst, src);
  sdiv32 = (dst: number, src: Operand): this => this.alu32('sdiv', dst, src);
  mod32 = (dst: number, src: Operand): this => this.alu32('mod', dst, src);
  smod32 = (dst: number, src: Operand): this => this.alu32('smod', dst, src);
  or32 = (dst: number, src: Operand): this => this.alu32('or', dst, src);
  and32 = (dst: number, src: Operand): this => this.alu32('and', dst, src);
  xor32 = (dst: number, src: Operand): this => this.alu32('xor', dst, src);
  lsh32 = (dst: number, src: Operand): this => this.alu32('lsh', dst, src);
  rsh32 = (dst: number, src: Operand): this => this.alu32('rsh', dst, src);
  arsh32 = (dst: number, src: Operand): this => this.alu32('arsh', dst, src);
  neg64 = (dst: number): this => this.emit({ kind: 'neg', alu64: true, dst });
  neg32 = (dst: number): this => this.emit({ kind: 'neg', alu64: false, dst });
  /** dst = (s8|s16|s32) src, 64-bit */
  movsx64 = (dst: number, src: number, bits: 8 | 16 | 32): this => this.emit({ kind: 'movsx', alu64: true, dst, src, bits });
  /** w_dst = (s8|s16) w_src */
  movsx32 = (dst: number, src: number, bits: 8 | 16): this => this.emit({ kind: 'movsx', alu64: false, dst, src, bits });
  /** dst = htole<bits>(dst) */
  le = (dst: number, bits: 16 | 32 | 64): this => this.emit({ kind: 'end', order: 'le', dst, bits });
  /** dst = htobe<bits>(dst) */
  be = (dst: number, bits: 16 | 32 | 64): this => this.emit({ kind: 'end', order: 'be', dst, bits });
  /** dst = bswap<bits>(dst), unconditionally (cpu v4) */
  bswap = (dst: number, bits: 16 | 32 | 64): this => this.emit({ kind: 'bswap', dst, bits });

  /** dst = *(type *)(src + off); s8/s16/s32 sign-extend (BPF_MEMSX). */
  ldx(type: MemType, dst: number, src: number, off: number): this {
    const m = memType(type);
    return this.emit({ kind: 'ldx', size: m.size, signed: m.signed, dst, src, off });
  }
  /** *(type *)(dst + off) = src */
  stx(type: MemType, dst: number, src: number, off: number): this {
    return this.emit({ kind: 'stx', size: storeSize(type), dst, src, off });
  }
  /** *(type *)(dst + off) = imm */
  st(type: MemType, dst: number, off: number, value: number): this {
    return this.emit({ kind: 'st', size: storeSize(type), dst, off, imm: value });
  }
  /** Atomic op on *(type *)(dst + off) with src; fetch_* / xchg return the old value in src, cmpxchg in r0. */
  atomic(type: 'u32' | 'u64', op: AtomicKind, dst: number, src: number, off: number): this {
    const fetch = op.startsWith('fetch_');
    const base = (fetch ? op.slice(6) : op) as AtomicOp;
    return this.emit({ kind: 'atomic', size: type === 'u32' ? 4 : 8, op: base, fetch, dst, src, off });
  }
  /** Legacy packet load: r0 = *(type *)skb[off] */
  ldAbs(type: 'u8' | 'u16' | 'u32', off: number): this {
    return this.emit({ kind: 'ldabs', size: memType(type).size as 1 | 2 | 4, imm: off });
  }
  /** Legacy packet load: r0 = *(type *)skb[src + off] */
  ldInd(type: 'u8' | 'u16' | 'u32', src: number, off: number): this {
    return this.emit({ kind: 'ldind', size: memType(type).size as 1 | 2 | 4, src, imm: off });
  }

  /** dst = a 64-bit constant (lddw). */
  lddw(dst: number, value: bigint | number): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new BuilderError(`lddw: ${value} is not an integer (pass a bigint)`);
    return this.emit({ kind: 'lddw', dst, pseudo: 0, imm: BigInt.asUintN(64, BigInt(value)) });
  }
  /** dst = a 64-bit constant: one `mov` when it fits a signed 32-bit immediate, else lddw. */
  movImm(dst: number, value: bigint | number): this {
    const v = BigInt.asIntN(64, BigInt(value));
    return v >= -0x80000000n && v <= 0x7fffffffn ? this.mov64(dst, imm(Number(v))) : this.lddw(dst, v);
  }
  /** dst = the map named `name` (relocation, kind 'fd'). */
  ldMap(dst: number, name: string): this {
    this.relocations.push({ slot: this.slots, map: name, kind: 'fd', offset: 0 });
    return this.emit({ kind: 'lddw', dst, pseudo: BPF_PSEUDO_MAP_FD, imm: 0n });
  }
  /** dst = &value[0] + off of the map named `name` (relocation, kind 'value'). */
  ldMapValue(dst: number, name: string, off = 0): this {
    if (!Number.isInteger(off) || off < 0 || off > 0xffffffff) throw new BuilderError(`ldMapValue: offset ${off} is not an unsigned 32-bit number`);
    this.relocations.push({ slot: this.slots, map: name, kind: 'value', offset: off });
    return this.emit({ kind: 'lddw', dst, pseudo: BPF_PSEUDO_MAP_VALUE, imm: BigInt(off) << 32n });
  }
  /** dst = the map with file descriptor `fd` (already created). */
  ldMapFd(dst: number, fd: number): this {
    return this.emit({ kind: 'lddw', dst, pseudo: BPF_PSEUDO_MAP_FD, imm: BigInt(fd >>> 0) });
  }
  /** dst = address of the subprogram at `label` (BPF_PSEUDO_FUNC, for callbacks such as bpf_loop). */
  ldFunc(dst: number, label: string): this {
    return this.emit({ kind: 'lddw', dst, pseudo: BPF_PSEUDO_FUNC, imm: 0n }, label);
  }
  /** dst = address of the kernel variable with BTF id `id` (BPF_PSEUDO_BTF_ID). */
  ldBtfId(dst: number, id: number, btfObjFd = 0): this {
    return this.emit({ kind: 'lddw', dst, pseudo: BPF_PSEUDO_BTF_ID, imm: (BigInt(btfObjFd >>> 0) << 32n) | BigInt(id >>> 0) });
  }

  /** if dst <cond> src goto label (64-bit compare). */
  jmp(cond: JmpCond, dst: number, src: Operand, label: string): this {
    return this.condJump(false, cond, dst, src, label);
  }
  /** if w_dst <cond> w_src goto label (32-bit compare). */
  jmp32(cond: JmpCond, dst: number, src: Operand, label: string): this {
    return this.condJump(true, cond, dst, src, label);
  }
  /** goto label (turned into gotol at build() if the target is out of 16-bit reach and longJumps allows). */
  ja(label: string): this {
    return this.emit({ kind: 'ja', off: 0 }, label);
  }
  /** gotol label: 32-bit offset (cpu v4). */
  gotol(label: string): this {
    return this.emit({ kind: 'gotol', imm: 0 }, label);
  }
  /** Call a helper by name ("bpf_map_lookup_elem" or "map_lookup_elem") or id. */
  call(helper: HelperName | `bpf_${HelperName}` | number): this {
    const id = typeof helper === 'number' ? helper : helperId(helper);
    if (id === undefined) throw new BuilderError(`unknown helper '${helper}'`);
    return this.emit({ kind: 'call', call: 'helper', imm: id });
  }
  /** Call the subprogram starting at `label` (BPF_PSEUDO_CALL). */
  callLocal(label: string): this {
    return this.emit({ kind: 'call', call: 'local', imm: 0 }, label);
  }
  /** Call a kernel function by BTF id (BPF_PSEUDO_KFUNC_CALL). */
  callKfunc(btfId: number): this {
    return this.emit({ kind: 'call', call: 'kfunc', imm: btfId });
  }
  exit(): this {
    return this.emit({ kind: 'exit' });
  }
  /** may_goto label: taken once the kernel's loop budget is spent (bounded loops, Linux 6.9+). */
  mayGoto(label: string): this {
    return this.emit({ kind: 'may_goto', off: 0 }, label);
  }
  /** dst = load_acquire((type *)(src + off)) (Linux 6.15+). */
  loadAcquire(type: 'u8' | 'u16' | 'u32' | 'u64', dst: number, src: number, off: number): this {
    return this.emit({ kind: 'load_acquire', size: storeSize(type), dst, src, off });
  }
  /** store_release((type *)(dst + off), src) (Linux 6.15+). */
  storeRelease(type: 'u8' | 'u16' | 'u32' | 'u64', dst: number, src: number, off: number): this {
    return this.emit({ kind: 'store_release', size: storeSize(type), dst, src, off });
  }

  /** Resolve labels and return the program. The builder can keep being used afterwards. */
  build(): BuildResult {
    let r;
    try {
      r = resolveLabels(this.code, { longJumps: this.opts.longJumps, labelName: (l) => this.names[l]! });
    } catch (e) {
      if (e instanceof LabelError) throw new BuilderError(e.message);
      throw e;
    }
    return { insns: r.insns.map((i) => ({ ...i })), relocations: this.relocations.map((x) => ({ ...x })), labels: new Map(this.placed), spans: r.spans };
  }

  private where(): string {
    return this.span ? ` (line ${this.span.line}:${this.span.col})` : '';
  }

  private condJump(jmp32: boolean, cond: JmpCond, dst: number, src: Operand, label: string): this {
    const op = COND[cond] ?? (cond in JMP_OPS ? (cond as JmpOp) : undefined);
    if (!op) throw new BuilderError(`unknown jump condition '${cond}'`);
    const s = operand(src);
    return this.emit({ kind: 'jmp', jmp32, op, dst, src: s.reg, imm: s.imm, off: 0 }, label);
  }
}

function operand(src: Operand): { reg: number | null; imm: number } {
  return typeof src === 'number' ? { reg: src, imm: 0 } : { reg: null, imm: src.imm };
}
function aluForm(alu64: boolean, op: AluOp, dst: number, src: Operand): Form {
  const s = operand(src);
  return { kind: 'alu', alu64, op, dst, src: s.reg, imm: s.imm };
}
function memType(type: MemType): { size: Size; signed: boolean } {
  const m = MEM[type];
  if (!m) throw new BuilderError(`unknown memory type '${type}' (u8, u16, u32, u64, s8, s16, s32)`);
  return m;
}
function storeSize(type: MemType): Size {
  const m = memType(type);
  if (m.signed) throw new BuilderError(`stores take unsigned types, not '${type}'`);
  return m.size;
}
