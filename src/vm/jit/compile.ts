// eBPF → WebAssembly: one module per program, one wasm function per subprogram (bpf-to-bpf calls are
// wasm calls), registers as i64 locals, all memory in the VM's imported linear memory, helpers as
// imported functions. The code does not trust the verifier: every load and store is checked against
// the region its pointer came from (provenance.ts; inline for the stack, the context, the packet and
// array maps, through the host otherwise), every backward jump burns fuel, and a call that would pass
// the frame limit faults. Arbitrary jumps become structured control flow: every jump target starts a
// segment closed by its own block, so a forward jump is a `br` to the end of the target's block; a
// backward jump stores the target in `pc` and restarts a loop whose br_table enters that segment.
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CLASS, BPF_EXIT, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE,
  BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX, BPF_MEMSX,
  BPF_MODE, BPF_OP, BPF_PSEUDO_CALL, BPF_SRC, BPF_ST, BPF_STX, BPF_X,
} from '../../isa/opcodes.js';
import { LDDW, type Instruction } from '../../isa/instruction.js';
import { BpfFunc } from '../../uapi/bpf.js';
import { BPF_LOAD_ACQ, BPF_STORE_REL, jumpTarget } from '../check.js';
import { CONTROL, type Region } from '../memory.js';
import { packetEntries } from './packet-entries.js';
import { origins, type Origin } from '../provenance.js';
import { STACK_SIZE, type VmProgram } from '../runtime.js';
import { accessSize } from '../semantics.js';
import { Code, encodeModule, Op, T, type ModuleSpec } from './wasm.js';
import { address, atomic, controlWords, FAULT, LOAD, LOADSX, loadControl, packetLoad, STORE, trap, type AccessContext } from './access.js';
import { alu32, alu64 } from './alu.js';
import { branchTargets, dispatchFlow, structuredFlow, Unstructured } from './flow.js';
import { CACHE, FUEL, PC, R, TA } from './locals.js';

export { accessHow, FAULT } from './access.js';

const TAIL_CALL = BpfFunc.tail_call;

export interface CompiledModule {
  bytes: Uint8Array;
  /** Helper ids in import order (after the fixed imports). */
  helperIds: number[];
  /** Tail calls count per run, so repeated runs of such programs loop in JS (resetting the count). */
  usesTailCall: boolean;
}


export function compile(prog: VmProgram, stack: Region): CompiledModule {
  const { insns, structure } = prog;
  const helperIds = [...new Set(insns.filter((i, pc) => i.code === (BPF_JMP | BPF_CALL) && i.src === 0 && i.imm !== TAIL_CALL && !isLddwHi(insns, pc)).map((i) => i.imm))];
  const types = [
    { params: [T.i64, T.i64, T.i64, T.i64, T.i64, T.i64], results: [T.i64] }, // 0: bpf function
    { params: [T.i64, T.i64, T.i64, T.i64, T.i64, T.i32], results: [T.i64] }, // 1: helper
    { params: [T.i64, T.i64, T.i64, T.i64, T.i32], results: [T.i32] }, // 2: tail_call(ctx, map, idx, fp, pc)
    { params: [], results: [T.i64] }, // 3: tail_r0
    { params: [T.i64, T.i64], results: [] }, // 4: set_skb(ctx, fp)
    { params: [T.i32, T.i32], results: [] }, // 5: fault(pc, kind)
    { params: [T.i32], results: [] }, // 6: set_fuel
    { params: [T.i64, T.i64, T.i64, T.i32], results: [T.i64] }, // 7: run_n(ctx, r2, fp, n)
    { params: [T.i64, T.i32], results: [T.i64] }, // 8: probe_load(addr, size | 0x100 if sign-extending)
    { params: [T.i64, T.i32, T.i32], results: [T.i32] }, // 9: check(addr, how, pc) -> address, or throws
    { params: [T.i32, T.i32, T.i32], results: [T.i32] }, // 10: run_skb_packet(start, caplen, wirelen) -> r0
    { params: [T.i32, T.i32, T.i32, T.i32, T.i32], results: [T.i32] }, // 11: run_skb_records(pos, end, snap, out, max) -> kept
  ];
  const imports = [
    { module: 'vm', name: 'tail_call', type: 2 },
    { module: 'vm', name: 'tail_r0', type: 3 },
    { module: 'vm', name: 'fault', type: 5 },
    { module: 'vm', name: 'probe_load', type: 8 },
    { module: 'vm', name: 'check', type: 9 },
    ...helperIds.map((id) => ({ module: 'helper', name: String(id), type: 1 })),
  ];
  const F = { tail_call: 0, tail_r0: 1, fault: 2, probe_load: 3, check: 4 };
  const helperFunc = new Map(helperIds.map((id, k) => [id, 5 + k]));
  const plan = origins(prog);
  const nImports = imports.length;
  const subOf = structure.subprogOf;
  const funcOfStart = new Map(structure.subprogs.map((s, k) => [s, nImports + k]));
  const funcs: ModuleSpec['funcs'] = structure.subprogs.map((start, k) => {
    const end = structure.subprogs[k + 1] ?? insns.length;
    const cx: Ctx = { helperFunc, funcOfStart, F, stack, plan, cache: controlWords(insns, plan, start, end) };
    return {
      type: 0,
      locals: [[5, T.i64], [1, T.i32], [2, T.i64], [1, T.i32], [1, T.i64], [1, T.i32], [cx.cache.size, T.i64]],
      code: compileFunction(insns, prog, start, end, k, cx),
    };
  });
  void subOf;
  // Global 0 is the fuel left in this run, global 1 what each run starts with.
  const setFuel = new Code().get(0).op(Op.global_set, 0).get(0).op(Op.global_set, 1);
  funcs.push({ type: 6, locals: [], code: setFuel });
  // run_n: the program n times on the same context, like BPF_PROG_TEST_RUN's `repeat`, without
  // crossing back to JS (and converting BigInts) between runs; returns the last r0.
  const runN = new Code().block(Op.loop);
  runN.op(Op.global_get, 1, Op.global_set, 0);
  runN.get(0).get(1).i64(0n).i64(0n).i64(0n).get(2).call(nImports).set(4);
  runN.get(3).i32(1).op(Op.i32_sub).tee(3).br(Op.br_if, 0).op(Op.end).get(4);
  funcs.push({ type: 7, locals: [[1, T.i64]], code: runN });
  const loadSizes = new Set(insns.filter((i) => BPF_CLASS(i.code) === BPF_LD && i.code !== LDDW).map((i) => accessSize(i.code)));
  const skb = packetEntries(nImports, { ctx: 2, fp: 3 }, loadSizes);
  funcs.push({ type: 4, locals: [], code: skb.setSkb });
  funcs.push({ type: 10, locals: [], code: skb.packet });
  funcs.push({ type: 11, locals: skb.recordsLocals, code: skb.records });
  const bytes = encodeModule({
    types,
    imports,
    memory: { module: 'vm', name: 'mem' },
    // fuel left in this run, fuel each run starts with; the packet entries' context and frame pointer
    globals: [{ type: T.i32, mutable: true, init: 0n }, { type: T.i32, mutable: true, init: 0n }, { type: T.i64, mutable: true, init: 0n }, { type: T.i64, mutable: true, init: 0n }],
    funcs,
    exports: [
      { name: 'main', func: nImports },
      { name: 'set_fuel', func: nImports + structure.subprogs.length },
      { name: 'run_n', func: nImports + structure.subprogs.length + 1 },
      { name: 'set_skb', func: nImports + structure.subprogs.length + 2 },
      { name: 'run_skb_packet', func: nImports + structure.subprogs.length + 3 },
      { name: 'run_skb_records', func: nImports + structure.subprogs.length + 4 },
    ],
  });
  const usesTailCall = insns.some((i, pc) => i.code === (BPF_JMP | BPF_CALL) && i.src === 0 && i.imm === TAIL_CALL && !isLddwHi(insns, pc));
  return { bytes, helperIds, usesTailCall };
}

function isLddwHi(insns: readonly Instruction[], pc: number): boolean {
  // The second slot of lddw has opcode 0, which is never a call; kept for clarity.
  return pc > 0 && insns[pc - 1]!.code === LDDW && insns[pc]!.code === 0;
}

interface Ctx extends AccessContext {
  helperFunc: Map<number, number>;
  funcOfStart: Map<number, number>;
  F: { tail_call: number; tail_r0: number; fault: number; probe_load: number; check: number };
}

const CMP64: Record<number, number> = {
  [BPF_JEQ]: Op.i64_eq, [BPF_JNE]: Op.i64_ne, [BPF_JGT]: Op.i64_gt_u, [BPF_JGE]: Op.i64_ge_u, [BPF_JLT]: Op.i64_lt_u,
  [BPF_JLE]: Op.i64_le_u, [BPF_JSGT]: Op.i64_gt_s, [BPF_JSGE]: Op.i64_ge_s, [BPF_JSLT]: Op.i64_lt_s, [BPF_JSLE]: Op.i64_le_s,
};
const CMP32: Record<number, number> = {
  [BPF_JEQ]: Op.i32_eq, [BPF_JNE]: Op.i32_ne, [BPF_JGT]: Op.i32_gt_u, [BPF_JGE]: Op.i32_ge_u, [BPF_JLT]: Op.i32_lt_u,
  [BPF_JLE]: Op.i32_le_u, [BPF_JSGT]: Op.i32_gt_s, [BPF_JSGE]: Op.i32_ge_s, [BPF_JSLT]: Op.i32_lt_s, [BPF_JSLE]: Op.i32_le_s,
};
/** How many functions were compiled with each flow (for tests and benchmarks). */
export const jitStats = { structured: 0, dispatch: 0, lastFallback: '' };

function compileFunction(insns: readonly Instruction[], prog: VmProgram, start: number, end: number, index: number, cx: Ctx): Code {
  try {
    const c = emitFunction(insns, prog, start, end, index, cx, true);
    jitStats.structured++;
    return c;
  } catch (e) {
    if (!(e instanceof Unstructured)) throw e;
    jitStats.dispatch++;
    jitStats.lastFallback = `${prog.name}@${start}: ${e.message}`;
    return emitFunction(insns, prog, start, end, index, cx, false);
  }
}

function emitFunction(insns: readonly Instruction[], prog: VmProgram, start: number, end: number, index: number, cx: Ctx, structured: boolean): Code {
  const c = new Code();
  void index;
  c.op(Op.global_get, 0).set(FUEL);
  loadControl(c, cx, false);
  const fuelCheck = (pc: number): void => {
    // Backward jumps burn fuel so an endless loop ends in a fault, not a hang, verified or not (a
    // verifier that is wrong about termination must not hang the host). The count lives in a local
    // (global 0 holds it across calls).
    c.get(FUEL).i32(1).op(Op.i32_sub).tee(FUEL).op(Op.i32_eqz, Op.if, T.void);
    trap(c, pc, FAULT.fuel);
    c.op(Op.end);
  };
  // Short straight-line tails ending in exit that code jumps back to (clang's shared `return`
  // blocks) are copied at each backward jump instead: no false loop, so more functions structure.
  const tails = new Map<number, number[]>();
  for (const [from, t] of branchTargets(insns, start, end)) {
    if (t > from || tails.has(t)) continue;
    const body: number[] = [];
    for (let q = t; q < end && body.length < 8; q++) {
      const x = insns[q]!;
      const k = BPF_CLASS(x.code);
      body.push(q);
      if ((k === BPF_JMP || k === BPF_JMP32) && BPF_OP(x.code) === BPF_EXIT) {
        tails.set(t, body);
        break;
      }
      if ((k === BPF_JMP || k === BPF_JMP32) && !(BPF_OP(x.code) === BPF_CALL && x.src !== BPF_PSEUDO_CALL && x.imm !== TAIL_CALL)) break;
      if (x.code === LDDW) q++;
    }
  }
  const inlined = (from: number, t: number): boolean => t <= from && tails.has(t);
  const flow = (structured ? structuredFlow : dispatchFlow)(c, insns, start, end, fuelCheck, inlined);
  const jump = (t: number, pc: number): void => {
    if (!inlined(pc, t)) return flow.jump(t, pc);
    for (const q of tails.get(t)!) emitOne(q);
  };
  const condJump = (t: number, pc: number): void => {
    if (!inlined(pc, t)) return flow.condJump(t, pc);
    c.op(Op.if, T.void);
    for (const q of tails.get(t)!) emitOne(q);
    c.op(Op.end);
  };
  flow.prologue();
  for (let pc = start; pc < end; pc++) {
    flow.before(pc);
    const here = pc;
    pc = emitOne(pc);
    flow.after(here);
  }
  flow.epilogue();
  return c;

  /** Emit the instruction at pc; returns the last slot it used (lddw takes two). */
  function emitOne(pc: number): number {
    const i = insns[pc]!;
    const cls = BPF_CLASS(i.code);
    const op = BPF_OP(i.code);
    const d = R[i.dst]!;
    const s = R[i.src] ?? 0;
    switch (cls) {
      case BPF_ALU64:
        alu64(c, i, d, s);
        break;
      case BPF_ALU:
        alu32(c, i, d, s);
        break;
      case BPF_JMP:
      case BPF_JMP32: {
        const is32 = cls === BPF_JMP32;
        if (op === BPF_JA) {
          jump(jumpTarget(insns, pc)!, pc);
        } else if (op === BPF_EXIT) {
          c.get(FUEL).op(Op.global_set, 0).get(R[0]!).op(Op.return);
        } else if (op === BPF_CALL) {
          if (i.src === BPF_PSEUDO_CALL) {
            // The callee's frame must fit in the stack area: at most 8 frames, as in the interpreter.
            c.get(R[10]!).i64(BigInt(cx.stack.start + STACK_SIZE)).op(Op.i64_le_u, Op.if, T.void);
            trap(c, pc, FAULT.callDepth);
            c.op(Op.end);
            for (let r = 1; r <= 5; r++) c.get(R[r]!);
            c.get(R[10]!).i64(BigInt(STACK_SIZE)).op(Op.i64_sub);
            c.get(FUEL).op(Op.global_set, 0);
            c.call(cx.funcOfStart.get(pc + 1 + i.imm)!).set(R[0]!);
            c.op(Op.global_get, 0).set(FUEL);
            loadControl(c, cx, true);
          } else if (i.imm === TAIL_CALL) {
            c.get(R[1]!).get(R[2]!).get(R[3]!).get(R[10]!).i32(pc).call(cx.F.tail_call);
            c.op(Op.if, T.void).get(FUEL).op(Op.global_set, 0).call(cx.F.tail_r0).op(Op.return, Op.end);
          } else {
            for (let r = 1; r <= 5; r++) c.get(R[r]!);
            c.i32(pc).call(cx.helperFunc.get(i.imm)!).set(R[0]!);
            loadControl(c, cx, true);
          }
        } else {
          if (is32) {
            c.get(d).op(Op.i32_wrap_i64);
            if (BPF_SRC(i.code) === BPF_X) c.get(s).op(Op.i32_wrap_i64);
            else c.i32(i.imm);
            if (op === BPF_JSET) c.op(Op.i32_and, Op.i32_eqz, Op.i32_eqz);
            else c.op(CMP32[op]!);
          } else {
            c.get(d);
            if (BPF_SRC(i.code) === BPF_X) c.get(s);
            else c.i64(BigInt(i.imm));
            if (op === BPF_JSET) c.op(Op.i64_and, Op.i64_eqz, Op.i32_eqz);
            else c.op(CMP64[op]!);
          }
          condJump(jumpTarget(insns, pc)!, pc);
        }
        break;
      }
      case BPF_LD: {
        if (i.code === LDDW) {
          c.i64(prog.imm64.get(pc)!).set(d);
          pc++;
          break;
        }
        const size = accessSize(i.code) as 1 | 2 | 4;
        if (index > 0) c.i32(pc).i32(FAULT.ldAbsInSubprog).call(cx.F.fault);
        if (BPF_MODE(i.code) === BPF_ABS) c.i64(BigInt(i.imm));
        else c.get(s).i64(BigInt(i.imm)).op(Op.i64_add).op(Op.i32_wrap_i64, Op.i64_extend_i32_s);
        packetLoad(c, cx, size, () => c.get(FUEL).op(Op.global_set, 0).i64(0n).op(Op.return));
        c.set(R[0]!);
        break;
      }
      case BPF_LDX: {
        const size = accessSize(i.code);
        if (prog.probeLoads?.has(pc)) {
          // A probe read through a tracing argument: the host checks the regions (0 outside them).
          c.get(s).i64(BigInt(i.off)).op(Op.i64_add).i32(size | (BPF_MODE(i.code) === BPF_MEMSX ? 0x100 : 0)).call(cx.F.probe_load).set(d);
          break;
        }
        const at = address(c, cx, pc, s, i.off, size, false);
        c.mem(BPF_MODE(i.code) === BPF_MEMSX ? LOADSX[size]! : LOAD[size]!, at).set(d);
        break;
      }
      case BPF_ST: {
        const size = accessSize(i.code);
        const at = address(c, cx, pc, d, i.off, size, true);
        c.i64(BigInt(i.imm)).mem(STORE[size]!, at);
        break;
      }
      case BPF_STX: {
        const size = accessSize(i.code);
        if (BPF_MODE(i.code) !== BPF_ATOMIC || i.imm === BPF_STORE_REL) {
          const at = address(c, cx, pc, d, i.off, size, true);
          c.get(s).mem(STORE[size]!, at);
        } else if (i.imm === BPF_LOAD_ACQ) {
          const at = address(c, cx, pc, s, i.off, size, false);
          c.mem(LOAD[size]!, at).set(d);
        } else {
          atomic(c, i, d, s, size, address(c, cx, pc, d, i.off, size, true));
        }
        break;
      }
    }
    return pc;
  }
}
