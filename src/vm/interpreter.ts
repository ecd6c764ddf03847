// The reference engine: executes slots one at a time on bigint registers and checks every memory
// access against the region its pointer came from (provenance.ts). Slow, exact, and the oracle for the JIT.
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CLASS, BPF_CMPXCHG, BPF_EXIT, BPF_FETCH, BPF_IND,
  BPF_JA, BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_MEMSX, BPF_MODE, BPF_OP, BPF_PSEUDO_CALL, BPF_SIZE, BPF_SRC,
  BPF_ST, BPF_STX, BPF_X, BPF_XCHG, BPF_ADD, BPF_AND, BPF_OR, BPF_XOR,
} from '../isa/opcodes.js';
import { LDDW } from '../isa/instruction.js';
import { BpfFunc } from '../uapi/bpf.js';
import { BPF_LOAD_ACQ, BPF_STORE_REL } from './check.js';
import { MemoryAccessError, type VmMemory } from './memory.js';
import { checkOrigin, origins } from './provenance.js';
import { MAX_CALL_FRAMES, STACK_SIZE, VmError, type Engine, type Runtime, type VmProgram } from './runtime.js';
import { accessSize, alu, jmpCond, sext } from './semantics.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Legacy packet load (LD_ABS/LD_IND): big-endian read from the skb data, or undefined if out of bounds. */
export function ldPacket(rt: Runtime, offset: bigint, size: number): bigint | undefined {
  const p = rt.packet;
  if (!p) return undefined;
  const off = BigInt.asIntN(64, offset);
  if (off < 0n || off + BigInt(size) > BigInt(p.dataEnd - p.data)) return undefined;
  const a = p.data + Number(off);
  const v = rt.mem.view;
  return BigInt(size === 1 ? v.getUint8(a) : size === 2 ? v.getUint16(a, false) : v.getUint32(a, false));
}

/** A probe read (the kernel's BPF_PROBE_MEM): the value, or 0 where no region is. */
export function probeLoad(mem: VmMemory, addr: bigint, size: number): bigint {
  const r = mem.find(u64(addr), size);
  return typeof r === 'string' ? 0n : mem.load(Number(u64(addr)), size);
}

/** The atomic read-modify-write of `imm` on `old` with operand `src` (both already truncated). */
export function atomicResult(op: number, old: bigint, src: bigint): bigint {
  switch (op & ~BPF_FETCH) {
    case BPF_ADD: return old + src;
    case BPF_OR: return old | src;
    case BPF_AND: return old & src;
    case BPF_XOR: return old ^ src;
  }
  return src; // xchg
}

/** Per program, decoded once: each slot's immediate as the unsigned 64-bit operand, and its offset. */
interface Operands {
  imm: bigint[];
  off: bigint[];
}
const operands = new WeakMap<VmProgram, Operands>();

function operandsOf(prog: VmProgram): Operands {
  let o = operands.get(prog);
  if (!o) {
    o = { imm: prog.insns.map((i) => u64(BigInt(i.imm))), off: prog.insns.map((i) => BigInt(i.off)) };
    operands.set(prog, o);
  }
  return o;
}

export class Interpreter implements Engine {
  constructor(private readonly rt: Runtime) {}

  exec(prog: VmProgram, ctx: bigint, fp: bigint, r2 = 0n): bigint {
    const rt = this.rt;
    const mem = rt.mem;
    const insns = prog.insns;
    const { imm: IMM, off: OFF } = operandsOf(prog);
    const r: bigint[] = new Array(11).fill(0n);
    r[1] = ctx;
    r[2] = r2;
    r[10] = fp;
    const frames: { ret: number; saved: bigint[] }[] = [];
    let pc = 0;
    let steps = 0;
    const plan = origins(prog);
    // Every access is checked against the region its pointer came from (or all regions where that is
    // not known), whatever the verifier said.
    const access = (addr: bigint, size: number, write: boolean): number => {
      try {
        return checkOrigin(mem, plan[pc]!, u64(addr), size, write, pc);
      } catch (e) {
        if (e instanceof MemoryAccessError) throw new VmError(pc, `${prog.name}: ${e.message}`);
        throw e;
      }
    };
    const cov = rt.coverage;
    for (;;) {
      if (cov) cov[pc] = 1;
      if (++steps > rt.maxSteps) throw new VmError(pc, `${prog.name}: pc ${pc}: instruction limit of ${rt.maxSteps} reached (endless loop?)`);
      const i = insns[pc];
      if (!i) throw new VmError(pc, `${prog.name}: pc ${pc}: execution left the program`);
      const code = i.code;
      switch (BPF_CLASS(code)) {
        case BPF_ALU:
        case BPF_ALU64: {
          const is64 = BPF_CLASS(code) === BPF_ALU64;
          const src = BPF_SRC(code) === BPF_X ? r[i.src]! : IMM[pc]!;
          r[i.dst] = alu(BPF_OP(code), is64, r[i.dst]!, src, i.off, i.imm, BPF_SRC(code));
          pc++;
          break;
        }
        case BPF_JMP:
        case BPF_JMP32: {
          const op = BPF_OP(code);
          const is32 = BPF_CLASS(code) === BPF_JMP32;
          if (op === BPF_JA) {
            pc += 1 + (is32 ? i.imm : i.off);
          } else if (op === BPF_EXIT) {
            const f = frames.pop();
            if (!f) return r[0]!;
            for (let k = 1; k <= 10; k++) r[k] = f.saved[k]!;
            pc = f.ret;
          } else if (op === BPF_CALL) {
            if (i.src === BPF_PSEUDO_CALL) {
              if (frames.length + 1 >= MAX_CALL_FRAMES) throw new VmError(pc, `${prog.name}: pc ${pc}: more than ${MAX_CALL_FRAMES} call frames`);
              frames.push({ ret: pc + 1, saved: r.slice() });
              r[0] = 0n;
              for (let k = 6; k <= 9; k++) r[k] = 0n;
              r[10] = r[10]! - BigInt(STACK_SIZE);
              pc += 1 + i.imm;
            } else if (i.imm === BpfFunc.tail_call) {
              const target = rt.tailTarget(r[2]!, r[3]!, pc);
              if (!target) {
                pc++; // falls through; r0 is undefined after bpf_tail_call and left as it was

              } else {
                // The target replaces this frame: its exit returns to our caller.
                r[0] = rt.engine.exec(target, r[1]!, r[10]!);
                const f = frames.pop();
                if (!f) return r[0]!;
                for (let k = 1; k <= 10; k++) r[k] = f.saved[k]!;
                pc = f.ret;
              }
            } else {
              try {
                r[0] = rt.callHelper(i.imm, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, pc);
              } catch (e) {
                if (e instanceof MemoryAccessError) throw new VmError(pc, `${prog.name}: helper ${i.imm}: ${e.message}`);
                throw e;
              }
              pc++;
            }
          } else {
            const b = BPF_SRC(code) === BPF_X ? r[i.src]! : IMM[pc]!;
            pc += jmpCond(op, is32, r[i.dst]!, b) ? 1 + i.off : 1;
          }
          break;
        }
        case BPF_LD: {
          if (code === LDDW) {
            r[i.dst] = prog.imm64.get(pc)!;
            pc += 2;
            break;
          }
          const size = accessSize(code);
          const off = BPF_MODE(code) === BPF_ABS ? BigInt(i.imm) : r[i.src]! + BigInt(i.imm);
          void BPF_IND;
          const v = ldPacket(rt, BigInt.asIntN(32, off), size);
          if (v === undefined) {
            if (frames.length) throw new VmError(pc, `${prog.name}: pc ${pc}: legacy packet load failed inside a subprogram`);
            return 0n;
          }
          r[0] = v;
          pc++;
          break;
        }
        case BPF_LDX: {
          const size = accessSize(code);
          if (prog.probeLoads?.has(pc)) {
            // A probe read (through a tracing argument): outside every region it reads 0.
            const v = probeLoad(mem, r[i.src]! + OFF[pc]!, size);
            r[i.dst] = BPF_MODE(code) === BPF_MEMSX ? sext(v, size * 8) : v;
            pc++;
            break;
          }
          const a = access(r[i.src]! + OFF[pc]!, size, false);
          const v = mem.load(a, size);
          r[i.dst] = BPF_MODE(code) === BPF_MEMSX ? sext(v, size * 8) : v;
          pc++;
          break;
        }
        case BPF_ST: {
          const size = accessSize(code);
          const a = access(r[i.dst]! + OFF[pc]!, size, true);
          mem.store(a, size, IMM[pc]!);
          pc++;
          break;
        }
        case BPF_STX: {
          const size = accessSize(code);
          if (BPF_MODE(code) !== BPF_ATOMIC) {
            const a = access(r[i.dst]! + OFF[pc]!, size, true);
            mem.store(a, size, r[i.src]!);
          } else if (i.imm === BPF_LOAD_ACQ) {
            const a = access(r[i.src]! + OFF[pc]!, size, false);
            r[i.dst] = mem.load(a, size);
          } else if (i.imm === BPF_STORE_REL) {
            const a = access(r[i.dst]! + OFF[pc]!, size, true);
            mem.store(a, size, r[i.src]!);
          } else {
            const a = access(r[i.dst]! + OFF[pc]!, size, true);
            const mask = size === 8 ? 0xffffffffffffffffn : 0xffffffffn;
            const old = mem.load(a, size);
            const src = r[i.src]! & mask;
            if (i.imm === BPF_CMPXCHG) {
              if ((r[0]! & mask) === old) mem.store(a, size, src);
              r[0] = old;
            } else {
              mem.store(a, size, atomicResult(i.imm, old, src) & mask);
              if (i.imm & BPF_FETCH || i.imm === BPF_XCHG) r[i.src] = old;
            }
          }
          pc++;
          break;
        }
        default:
          throw new VmError(pc, `${prog.name}: pc ${pc}: unknown opcode 0x${code.toString(16)}`);
      }
    }
  }
}
