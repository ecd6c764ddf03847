// Random programs for the differential fuzzer, per target: a socket filter, an XDP program and a
// program over the VM's own (host-defined, 64-byte) context. Programs are built from snippets that
// are mostly valid (so both verifiers get past the easy checks) but sit close to the edges the
// verifiers must decide: variable offsets bounded by masks, compares and shifts; packet bounds;
// pointers kept across helpers that move the packet; constants read from a read-only map; 32-bit
// arithmetic; loops; calls with stack pointers. The mutator (mutate.ts) then pushes them over.
import * as O from '../../../src/isa/opcodes.js';
import { insn, type Instruction } from '../../../src/isa/instruction.js';
import { helperId } from '../../../src/isa/helpers.js';
import { alu32i, alu32r, alu64i, alu64r, bswap, endian, exit, jmpi, jmpr, lddw, ldabs, ldind, ldmap, ldx, mov64i, mov64r, st, stx } from '../asm.js';
import { Rng } from '../random-program.js';
import { Builder } from './builder.js';

export type Target = 'socket' | 'xdp' | 'vmctx';
export const TARGETS: readonly Target[] = ['socket', 'xdp', 'vmctx'];

/** The maps every fuzzed program may use, by BPF_PSEUDO_MAP_IDX index. */
export const FUZZ_MAPS = [
  { name: 'arr', type: 2 /* ARRAY */, keySize: 4, valueSize: 16, maxEntries: 4 },
  { name: 'hash', type: 1 /* HASH */, keySize: 4, valueSize: 16, maxEntries: 8 },
  // A frozen, read-only array like .rodata: the verifiers read its values as constants.
  { name: 'ro', type: 2 /* ARRAY */, keySize: 4, valueSize: 16, maxEntries: 1, readonly: true },
  { name: 'rb', type: 27 /* RINGBUF */, keySize: 0, valueSize: 0, maxEntries: 4096 },
] as const;
export const MAP_ARR = 0;
export const MAP_HASH = 1;
export const MAP_RO = 2;
export const MAP_RB = 3;
/** What `ro` holds: small numbers programs use as offsets and shift counts. */
export const RO_VALUE = Uint8Array.from([3, 0, 0, 0, 36, 0, 0, 0, 200, 0, 0, 0, 0xf8, 0xff, 0xff, 0xff]);
export const VALUE_SIZE = 16;
export const VMCTX_SIZE = 64;

const h = (name: string): number => {
  const id = helperId(name);
  if (id === undefined) throw new Error(`no helper ${name}`);
  return id;
};
const call = (name: string): Instruction => insn(O.BPF_JMP | O.BPF_CALL, 0, 0, 0, h(name));
const ldmapValue = (dst: number, map: number, off: number): Instruction[] => [insn(O.BPF_LD | O.BPF_IMM | O.BPF_DW, dst, O.BPF_PSEUDO_MAP_IDX_VALUE, 0, map), insn(0, 0, 0, 0, off)];

/** Registers that hold scalars between snippets (r6 keeps the context). */
const S = [7, 8, 9];
const SIZES = [O.BPF_B, O.BPF_H, O.BPF_W, O.BPF_DW];
const BYTES: Record<number, number> = { [O.BPF_B]: 1, [O.BPF_H]: 2, [O.BPF_W]: 4, [O.BPF_DW]: 8 };
const ALU = [O.BPF_ADD, O.BPF_SUB, O.BPF_MUL, O.BPF_DIV, O.BPF_OR, O.BPF_AND, O.BPF_LSH, O.BPF_RSH, O.BPF_MOD, O.BPF_XOR, O.BPF_ARSH];
const JMP = [O.BPF_JEQ, O.BPF_JNE, O.BPF_JGT, O.BPF_JGE, O.BPF_JLT, O.BPF_JLE, O.BPF_JSGT, O.BPF_JSGE, O.BPF_JSLT, O.BPF_JSLE, O.BPF_JSET];

class Gen {
  readonly b = new Builder();
  /** Stack bytes below fp the snippets use (the kernel caps a frame at 512). */
  private readonly sub: string | undefined;
  private called = false;

  constructor(
    readonly g: Rng,
    readonly target: Target,
  ) {
    this.sub = g.int(3) === 0 ? 'sub' : undefined;
  }

  private sreg(): number {
    return this.g.pick(S);
  }

  /** A small value with edge cases around shift widths and offsets. */
  private small(): number {
    return this.g.pick([0, 1, 3, 7, 8, 15, 16, 31, 32, 33, 36, 63, 64, 255, -1, -8, this.g.int(600)]);
  }

  /** Scalar arithmetic on the scalar registers, 32- and 64-bit, immediate and register operands. */
  arith(): void {
    const { g, b } = this;
    for (let k = 1 + g.int(4); k > 0; k--) {
      const d = this.sreg();
      const is64 = g.int(2) === 0;
      const r = g.int(12);
      if (r < 6) {
        const op = g.pick(ALU);
        const shift = op === O.BPF_LSH || op === O.BPF_RSH || op === O.BPF_ARSH;
        if (g.int(2)) {
          // Register operands: shifts by a register holding any value (the ISA masks the count).
          const off = (op === O.BPF_DIV || op === O.BPF_MOD) && g.int(3) === 0 ? 1 : 0;
          b.emit(is64 ? alu64r(op, d, this.sreg(), off) : alu32r(op, d, this.sreg(), off));
        } else {
          let imm = shift ? g.int(is64 ? 64 : 32) : this.small();
          if ((op === O.BPF_DIV || op === O.BPF_MOD) && imm === 0) imm = 3;
          b.emit(is64 ? alu64i(op, d, imm) : alu32i(op, d, imm));
        }
      } else if (r === 6) b.emit(is64 ? mov64i(d, this.small()) : alu32i(O.BPF_MOV, d, this.small()));
      else if (r === 7) b.emit(mov64r(d, this.sreg(), g.pick([0, 8, 16, 32])));
      else if (r === 8) b.emit(g.int(2) ? endian(g.int(2) === 0, d, g.pick([16, 32, 64])) : bswap(d, g.pick([16, 32, 64])));
      else if (r === 9) b.emit(is64 ? alu64i(O.BPF_NEG, d, 0) : alu32i(O.BPF_NEG, d, 0));
      else if (r === 10) b.emit(...lddw(d, g.u64()));
      else b.emit(call('get_prandom_u32'), mov64r(d, 0));
    }
  }

  /** Bound register `r` into [0, limit) one of several ways, leaving it in `r`. */
  private bound(r: number, limit: number, skip: string): void {
    const { g, b } = this;
    switch (g.int(7)) {
      case 6:
        // Both ends by signed 32-bit compares (which say nothing of the upper half).
        b.jump(jmpi(O.BPF_JSGE, r, limit, 0, O.BPF_JMP32), skip).jump(jmpi(O.BPF_JSLT, r, 0, 0, O.BPF_JMP32), skip);
        break;
      case 0: b.emit(alu64i(O.BPF_AND, r, limit - 1)); break; // limit is a power of two
      case 1: b.jump(jmpi(O.BPF_JGE, r, limit, 0), skip); break;
      case 2: b.jump(jmpi(O.BPF_JSGE, r, limit, 0), skip).jump(jmpi(O.BPF_JSLT, r, 0, 0), skip); break;
      case 3: b.emit(alu32i(O.BPF_AND, r, limit - 1)); break;
      case 4: b.emit(alu64i(O.BPF_RSH, r, 64 - Math.log2(limit))); break;
      default: b.jump(jmpi(O.BPF_JGE, r, limit, 0, O.BPF_JMP32), skip); break; // 32-bit compare
    }
  }

  /** A stack access at a constant or a bounded variable offset. */
  stack(): void {
    const { g, b } = this;
    const size = g.pick(SIZES);
    const n = BYTES[size]!;
    const skip = b.fresh();
    if (g.int(2)) {
      const off = -n * (1 + g.int(64 / n));
      if (g.int(2)) b.emit(stx(size, 10, this.sreg(), off));
      else if (g.int(3)) b.emit(st(size, 10, off, this.small()));
      else b.emit(ldx(size, this.sreg(), 10, off));
    } else {
      const idx = this.sreg();
      b.emit(mov64r(2, idx));
      this.bound(2, g.pick([8, 16, 32, 64]), skip);
      if (g.int(5)) b.emit(alu64i(O.BPF_AND, 2, -n)); // stack accesses must be aligned
      b.emit(mov64r(1, 10), alu64i(O.BPF_ADD, 1, -128), alu64r(O.BPF_ADD, 1, 2));
      if (g.int(2)) b.emit(stx(size, 1, this.sreg(), g.pick([0, 8, 56])));
      else b.emit(ldx(size, this.sreg(), 1, g.pick([0, 8, 56])));
    }
    b.label(skip);
  }

  /** Spill the context pointer, reload it and read through it. */
  spill(): void {
    const { g, b } = this;
    const off = -8 * (1 + g.int(8));
    b.emit(stx(O.BPF_DW, 10, 6, off), ldx(O.BPF_DW, 1, 10, off));
    this.ctxRead(1);
  }

  /** A lookup in the array or hash map, a NULL check, then an access at a constant or bounded offset. */
  mapAccess(): void {
    const { g, b } = this;
    const skip = b.fresh();
    const map = g.int(3) ? MAP_ARR : MAP_HASH;
    if (g.int(2)) b.emit(st(O.BPF_W, 10, -4, g.int(5)));
    else b.emit(mov64r(1, this.sreg()), stx(O.BPF_W, 10, 1, -4));
    if (map === MAP_HASH && g.int(2)) {
      // Make sure the key is there.
      b.emit(st(O.BPF_DW, 10, -24, this.small()), st(O.BPF_DW, 10, -16, 0), ...ldmap(1, map), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -4));
      b.emit(mov64r(3, 10), alu64i(O.BPF_ADD, 3, -24), mov64i(4, 0), call('map_update_elem'));
    }
    b.emit(...ldmap(1, map), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -4), call('map_lookup_elem'));
    if (g.int(4) === 0) {
      // NULL-check a copy: the check must carry over to r0 (same id).
      b.emit(mov64r(5, 0)).jump(jmpi(g.int(2) ? O.BPF_JEQ : O.BPF_JLE, 5, 0, 0), skip);
    } else b.jump(jmpi(O.BPF_JEQ, 0, 0, 0), skip);
    const size = g.pick(SIZES);
    const n = BYTES[size]!;
    let base = 0;
    let off = n * g.int(VALUE_SIZE / n);
    if (g.int(2)) {
      const idx = this.sreg();
      b.emit(mov64r(2, idx));
      this.bound(2, g.pick([8, 16]), skip);
      b.emit(alu64r(O.BPF_ADD, 0, 2));
      off = g.pick([0, 8, 16 - n]);
    }
    if (g.int(4) === 0) {
      // Keep the value pointer across another call, spilled.
      b.emit(stx(O.BPF_DW, 10, 0, -32), call('get_prandom_u32'), ldx(O.BPF_DW, base = 0, 10, -32));
    }
    if (g.int(2)) b.emit(stx(size, base, this.sreg(), off));
    else if (g.int(4) === 0 && n >= 4) b.emit(insn(O.BPF_STX | O.BPF_ATOMIC | size, base, this.sreg(), off, g.pick([O.BPF_ADD, O.BPF_XOR | O.BPF_FETCH, O.BPF_XCHG])));
    else b.emit(ldx(size, this.sreg(), base, off));
    b.label(skip);
  }

  /** Constants from the read-only map: offsets and shift counts the verifiers know exactly. */
  rodata(): void {
    const { g, b } = this;
    const off = 4 * g.int(4);
    b.emit(...ldmapValue(1, MAP_RO, off), ldx(O.BPF_W, 2, 1, 0));
    if (g.int(10) === 0) {
      // A write into frozen data.
      b.emit(stx(O.BPF_W, 1, this.sreg(), 0));
      return;
    }
    const d = this.sreg();
    switch (g.int(3)) {
      case 0: b.emit(g.int(2) ? alu32r(g.pick([O.BPF_LSH, O.BPF_RSH, O.BPF_ARSH]), d, 2) : alu64r(g.pick([O.BPF_LSH, O.BPF_RSH, O.BPF_ARSH]), d, 2)); break;
      case 1: b.emit(mov64r(1, 10), alu64i(O.BPF_ADD, 1, -64), alu64r(O.BPF_ADD, 1, 2), ldx(O.BPF_B, d, 1, 0)); break;
      default: b.emit(alu64r(O.BPF_ADD, d, 2));
    }
  }

  /** The shape of the ALU32 bug: a shift by a register holding a constant past the width. */
  shiftIndex(): void {
    const { g, b } = this;
    const d = this.sreg();
    b.emit(call('get_prandom_u32'), mov64r(d, 0), mov64i(4, g.pick([31, 32, 33, 36, 63, 64, 65])));
    b.emit(g.int(2) ? alu32r(g.pick([O.BPF_LSH, O.BPF_RSH, O.BPF_ARSH]), d, 4) : alu64r(g.pick([O.BPF_LSH, O.BPF_RSH, O.BPF_ARSH]), d, 4));
    b.emit(alu64i(O.BPF_AND, d, g.pick([0xff, 0x3f, 0x7])));
    if (g.int(2)) b.emit(mov64r(1, 10), alu64i(O.BPF_ADD, 1, -64), alu64r(O.BPF_ADD, 1, d), st(O.BPF_B, 1, 0, 1));
  }

  /** Reads (and for the VM's context, writes) of the context. */
  ctxRead(base = 6): void {
    const { g, b } = this;
    const d = this.sreg();
    if (this.target === 'vmctx') {
      const size = g.pick(SIZES);
      const n = BYTES[size]!;
      const off = g.int(16) === 0 ? g.pick([VMCTX_SIZE, -n, VMCTX_SIZE - n + 1]) : n * g.int(VMCTX_SIZE / n);
      b.emit(g.int(3) === 0 ? stx(size, base, d, off) : ldx(size, d, base, off));
      return;
    }
    // __sk_buff: len, pkt_type, mark, protocol, priority, cb[], hash; xdp_md: ingress_ifindex, rx_queue.
    const fields = this.target === 'socket' ? [0, 4, 8, 16, 32, 48, 52, 68] : [12, 16];
    const off = g.int(12) === 0 ? 4 * g.int(50) : g.pick(fields);
    b.emit(g.int(12) === 0 ? stx(O.BPF_W, base, d, off) : ldx(g.int(8) === 0 ? O.BPF_H : O.BPF_W, d, base, off));
  }

  /** XDP: bounds-checked packet access at a constant or variable offset, and meta data. */
  packet(): void {
    const { g, b } = this;
    const skip = b.fresh();
    const meta = g.int(5) === 0;
    b.emit(ldx(O.BPF_W, 2, 6, meta ? 8 : 0), ldx(O.BPF_W, 3, 6, meta ? 0 : 4));
    if (g.int(2)) {
      const idx = this.sreg();
      b.emit(mov64r(5, idx));
      this.bound(5, g.pick([16, 64, 256]), skip);
      b.emit(alu64r(O.BPF_ADD, 2, 5));
    }
    const need = g.pick([1, 2, 4, 8, 14, 20, 34]);
    b.emit(mov64r(4, 2), alu64i(O.BPF_ADD, 4, need));
    b.jump(jmpr(g.pick([O.BPF_JGT, O.BPF_JGT, O.BPF_JGE]), 4, 3, 0), skip);
    const size = g.pick(SIZES.filter((s) => BYTES[s]! <= need));
    const off = g.int(Math.max(1, need - BYTES[size]! + 1));
    b.emit(g.int(3) === 0 ? stx(size, 2, this.sreg(), off) : ldx(size, this.sreg(), 2, off));
    b.label(skip);
  }

  /** XDP: a helper that moves the packet, then a packet pointer from before it (or reloaded). */
  adjust(): void {
    const { g, b } = this;
    const skip = b.fresh();
    b.emit(ldx(O.BPF_W, 2, 6, 0), ldx(O.BPF_W, 3, 6, 4), mov64r(4, 2), alu64i(O.BPF_ADD, 4, 14));
    b.jump(jmpr(O.BPF_JGT, 4, 3, 0), skip);
    b.emit(stx(O.BPF_DW, 10, 2, -40), mov64r(1, 6), mov64i(2, g.pick([-8, -4, 0, 4, 8, 14])));
    b.emit(call(g.pick(['xdp_adjust_head', 'xdp_adjust_tail', 'xdp_adjust_meta'])));
    if (g.int(3) === 0) {
      b.emit(ldx(O.BPF_DW, 2, 10, -40)); // stale
    } else {
      b.emit(ldx(O.BPF_W, 2, 6, 0), ldx(O.BPF_W, 3, 6, 4), mov64r(4, 2), alu64i(O.BPF_ADD, 4, 14));
      b.jump(jmpr(O.BPF_JGT, 4, 3, 0), skip);
    }
    b.emit(ldx(O.BPF_B, this.sreg(), 2, g.int(14)));
    b.label(skip);
  }

  /** Socket filter: legacy packet loads and skb_load_bytes into the stack. */
  skb(): void {
    const { g, b } = this;
    if (g.int(2)) {
      // LD_ABS/LD_IND clobber r1-r5 and read through r6 (the context).
      const size = g.pick([O.BPF_B, O.BPF_H, O.BPF_W]);
      if (g.int(2)) b.emit(ldabs(size, g.int(60)));
      else b.emit(mov64r(7, this.sreg()), alu64i(O.BPF_AND, 7, 31), ldind(size, 7, g.int(30)));
      b.emit(mov64r(this.sreg(), 0));
      return;
    }
    const len = g.pick([1, 4, 8, 14, 16]);
    b.emit(mov64r(1, 6), mov64i(2, g.int(40)), mov64r(3, 10), alu64i(O.BPF_ADD, 3, -16 - 8 * g.int(4)), mov64i(4, len), call('skb_load_bytes'));
    b.emit(ldx(O.BPF_DW, this.sreg(), 10, -16));
  }

  /** A counted loop over scalar arithmetic. */
  loop(): void {
    const { g, b } = this;
    const top = b.fresh();
    b.emit(mov64i(1, 1 + g.int(6))).label(top);
    const d = this.sreg();
    b.emit(alu64r(g.pick([O.BPF_ADD, O.BPF_XOR]), d, 1), alu64i(O.BPF_LSH, d, 1));
    b.emit(alu64i(O.BPF_SUB, 1, 1)).jump(jmpi(O.BPF_JNE, 1, 0, 0), top);
  }

  /** A ring-buffer record: reserved, written at a constant or bounded offset, submitted or discarded. */
  ringbuf(): void {
    const { g, b } = this;
    const skip = b.fresh();
    const size = g.pick([8, 16, 24]);
    b.emit(...ldmap(1, MAP_RB), mov64i(2, size), mov64i(3, 0), call('ringbuf_reserve'));
    b.jump(jmpi(O.BPF_JEQ, 0, 0, 0), skip);
    b.emit(mov64r(7, 0));
    if (g.int(2)) {
      b.emit(mov64r(2, this.sreg()));
      const done = b.fresh();
      this.bound(2, 8, done);
      b.emit(mov64r(1, 7), alu64r(O.BPF_ADD, 1, 2), st(O.BPF_B, 1, size - 8, 1)).label(done);
    } else b.emit(stx(O.BPF_DW, 7, this.sreg(), g.int(size / 8) * 8));
    b.emit(mov64r(1, 7), mov64i(2, 0), call(g.int(2) ? 'ringbuf_submit' : 'ringbuf_discard'), mov64i(7, 0));
    b.label(skip);
  }

  /** A loop whose trip count comes from arithmetic the verifiers must model exactly (shifts by a
   *  register, masks): a verifier that gets the count wrong takes a real loop for dead code. */
  countedBy(): void {
    const { g, b } = this;
    const top = b.fresh();
    const done = b.fresh();
    const d = this.sreg();
    b.emit(call('get_prandom_u32'), mov64r(1, 0), mov64i(4, g.pick([3, 31, 33, 36, 63, 65])));
    b.emit(g.int(2) ? alu32r(g.pick([O.BPF_LSH, O.BPF_RSH, O.BPF_ARSH]), 1, 4) : alu64r(g.pick([O.BPF_LSH, O.BPF_RSH, O.BPF_ARSH]), 1, 4));
    b.emit(alu64i(O.BPF_AND, 1, 7)).jump(jmpi(O.BPF_JEQ, 1, 0, 0), done).label(top);
    b.emit(alu64r(O.BPF_ADD, d, 1), alu64i(O.BPF_SUB, 1, 1)).jump(jmpi(O.BPF_JNE, 1, 0, 0), top).label(done);
  }

  /** A call to the subprogram with a pointer into this frame. */
  subcall(): void {
    if (!this.sub) return this.arith();
    const { b } = this;
    this.called = true;
    b.emit(st(O.BPF_DW, 10, -48, 0), mov64r(1, 10), alu64i(O.BPF_ADD, 1, -48), mov64r(2, this.sreg())).callLocal(this.sub);
    b.emit(mov64r(this.sreg(), 0), ldx(O.BPF_DW, this.sreg(), 10, -48));
  }

  /** The subprogram: writes through the pointer it was given at a bounded offset, returns a scalar. */
  subprogram(): void {
    // An uncalled subprogram would be dead code, which both verifiers reject.
    if (!this.sub || !this.called) return;
    const { g, b } = this;
    const skip = b.fresh();
    b.label(this.sub);
    b.emit(mov64r(0, 2));
    this.bound(2, 8, skip);
    b.emit(alu64r(O.BPF_ADD, 1, 2), st(g.pick([O.BPF_B, O.BPF_H]), 1, 0, 7));
    b.label(skip);
    b.emit(alu64i(O.BPF_AND, 0, 0xff), exit());
  }

  snippet(): void {
    const { g } = this;
    const common = [() => this.arith(), () => this.arith(), () => this.stack(), () => this.mapAccess(), () => this.rodata(), () => this.shiftIndex(), () => this.ctxRead(), () => this.loop(), () => this.countedBy(), () => this.subcall(), () => this.spill(), () => this.ringbuf()];
    const own = this.target === 'xdp' ? [() => this.packet(), () => this.packet(), () => this.adjust()] : this.target === 'socket' ? [() => this.skb(), () => this.skb()] : [() => this.ctxRead(), () => this.ctxRead()];
    g.pick([...common, ...own])();
  }

  program(snippets: number): Instruction[] {
    const { g, b } = this;
    b.emit(mov64r(6, 1));
    for (const r of S) b.emit(...(g.int(4) ? [mov64i(r, this.small())] : lddw(r, g.u64())));
    for (let k = 0; k < snippets; k++) {
      if (g.int(5) === 0) {
        // Branch over the next snippet on a random condition.
        const after = b.fresh();
        const cls = g.int(2) ? O.BPF_JMP : O.BPF_JMP32;
        b.jump(g.int(2) ? jmpi(g.pick(JMP), this.sreg(), this.small(), 0, cls) : jmpr(g.pick(JMP), this.sreg(), this.sreg(), 0, cls), after);
        this.snippet();
        b.label(after);
      } else this.snippet();
    }
    b.emit(mov64r(0, 7), alu64r(O.BPF_XOR, 0, 8), alu64r(O.BPF_ADD, 0, 9));
    if (this.target === 'xdp') b.emit(alu64i(O.BPF_AND, 0, 3)); // a valid action, so runs show packets
    b.emit(exit());
    this.subprogram();
    return b.build();
  }
}

/** A program for `target` from `seed`, built from about `snippets` snippets. */
export function generate(target: Target, seed: number, snippets = 3 + (seed % 8)): Instruction[] {
  return new Gen(new Rng(seed), target).program(snippets);
}
