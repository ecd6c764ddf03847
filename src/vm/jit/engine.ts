// Runs programs through the wasm JIT: compiles each program once, instantiates it against the VM's
// memory and helper table, and turns wasm traps and faults into VmErrors.
import { probeLoad } from '../interpreter.js';
import { CONTROL, MemoryAccessError } from '../memory.js';
import { checkOrigin, origins } from '../provenance.js';
import { MAX_CALL_FRAMES, VmError, type Engine, type Runtime, type VmProgram } from '../runtime.js';
import { compile, FAULT } from './compile.js';
import { wasmApi } from './wasm-global.js';

/**
 * A socket filter on packets in VM memory (see packet-entries.ts): its verdict on one packet, and
 * over a run of classic pcap records.
 */
export interface PacketFunctions {
  verdict(start: number, caplen: number, wirelen: number): number;
  /** kept [record address, verdict] pairs at out + 8; at out: where it stopped, records read; returns how many it kept */
  records(pos: number, end: number, snap: number, out: number, max: number): number;
}

type Main = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, fp: bigint) => bigint;

interface Compiled {
  main: Main;
  setFuel: (n: number) => void;
  runN: (ctx: bigint, r2: bigint, fp: bigint, n: number) => bigint;
  setSkb: (ctx: bigint, fp: bigint) => void;
  skbPacket: (start: number, caplen: number, wirelen: number) => number;
  skbRecords: (pos: number, end: number, snap: number, out: number, max: number) => number;
  usesTailCall: boolean;
}

const I64_MASK = (1n << 64n) - 1n;

export class JitEngine implements Engine {
  private readonly cache = new WeakMap<VmProgram, Compiled>();
  private tailR0 = 0n;

  constructor(private readonly rt: Runtime) {}

  compiled(prog: VmProgram): Compiled {
    let c = this.cache.get(prog);
    if (c) return c;
    const rt = this.rt;
    if (!rt.mem.stackRegion) throw new Error('the JIT needs the VM stack region');
    const { bytes, helperIds, usesTailCall } = compile(prog, rt.mem.stackRegion);
    const plan = origins(prog);
    const api = wasmApi();
    const helpers: Record<string, unknown> = {};
    for (const id of helperIds) {
      helpers[String(id)] = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, pc: number): bigint => {
        const v = rt.callHelper(id, r1 & I64_MASK, r2 & I64_MASK, r3 & I64_MASK, r4 & I64_MASK, r5 & I64_MASK, pc);
        rt.mem.refresh();
        return BigInt.asIntN(64, v);
      };
    }
    const vm = {
      mem: rt.mem.wasm,
      tail_call: (ctx: bigint, map: bigint, idx: bigint, fp: bigint, pc: number): number => {
        const target = rt.tailTarget(map & I64_MASK, idx & I64_MASK, pc);
        if (!target) return 0;
        this.tailR0 = BigInt.asIntN(64, rt.engine.exec(target, ctx & I64_MASK, fp & I64_MASK));
        return 1;
      },
      tail_r0: (): bigint => this.tailR0,
      probe_load: (addr: bigint, how: number): bigint => {
        const size = how & 0xff;
        const v = probeLoad(rt.mem, addr, size);
        return BigInt.asIntN(64, how & 0x100 ? BigInt.asIntN(size * 8, v) : v);
      },
      fault: (pc: number, kind: number): void => {
        throw this.fault(prog, pc, kind);
      },
      // Accesses the code does not check inline, and inline checks that failed: the same check, and
      // the same error, as the interpreter's.
      check: (addr: bigint, how: number, pc: number): number => {
        try {
          return checkOrigin(rt.mem, plan[pc]!, addr & I64_MASK, how & 0xf, (how & 0x10) !== 0, pc);
        } catch (e) {
          if (e instanceof MemoryAccessError) throw new VmError(pc, `${prog.name}: ${e.message}`);
          throw e;
        }
      },
    };
    const inst = new api.Instance(new api.Module(bytes), { vm, helper: helpers });
    const x = inst.exports;
    c = { main: x.main as Main, setFuel: x.set_fuel as Compiled['setFuel'], runN: x.run_n as Compiled['runN'], setSkb: x.set_skb as Compiled['setSkb'], skbPacket: x.run_skb_packet as Compiled['skbPacket'], skbRecords: x.run_skb_records as Compiled['skbRecords'], usesTailCall };
    this.cache.set(prog, c);
    return c;
  }

  exec(prog: VmProgram, ctx: bigint, fp: bigint, r2 = 0n): bigint {
    const c = this.compiled(prog);
    c.setFuel(Math.min(this.rt.maxSteps, 0x7fffffff));
    try {
      return BigInt.asUintN(64, c.main(BigInt.asIntN(64, ctx), BigInt.asIntN(64, r2), 0n, 0n, 0n, BigInt.asIntN(64, fp)));
    } catch (e) {
      throw this.trap(prog, e);
    }
  }

  /** `n` runs inside wasm (each with its own fuel), or undefined when the caller must loop (tail
   *  calls are counted per run). */
  execRepeat(prog: VmProgram, ctx: bigint, fp: bigint, r2: bigint, n: number): bigint | undefined {
    const c = this.compiled(prog);
    if (c.usesTailCall) return undefined;
    c.setFuel(Math.min(this.rt.maxSteps, 0x7fffffff));
    try {
      return BigInt.asUintN(64, c.runN(BigInt.asIntN(64, ctx), BigInt.asIntN(64, r2), BigInt.asIntN(64, fp), n));
    } catch (e) {
      throw this.trap(prog, e);
    }
  }

  /**
   * The program as a filter of packets in VM memory (packet-entries.ts): its r0 (low 32 bits) for
   * the packet at [start, start + caplen), `wirelen` long on the wire. A fault throws.
   */
  packetFunctions(prog: VmProgram, ctx: bigint, fp: bigint): PacketFunctions {
    const c = this.compiled(prog);
    c.setFuel(Math.min(this.rt.maxSteps, 0x7fffffff));
    c.setSkb(BigInt.asIntN(64, ctx), BigInt.asIntN(64, fp));
    const run = c.skbPacket;
    const records = c.skbRecords;
    return {
      verdict: (start, caplen, wirelen) => {
        try {
          return run(start, caplen, wirelen) >>> 0;
        } catch (e) {
          throw this.trap(prog, e);
        }
      },
      records: (pos, end, snap, out, max) => {
        try {
          return records(pos, end, snap, out, max);
        } catch (e) {
          throw this.trap(prog, e);
        }
      },
    };
  }

  private trap(prog: VmProgram, e: unknown): unknown {
    if (e instanceof VmError) return e;
    const name = (e as Error)?.constructor?.name;
    if (name !== 'RuntimeError') return e;
    // A trap the code set up (compile.ts, trap()) says why in the control block.
    const v = this.rt.mem.view;
    const word = v.getUint32(CONTROL.fault, true);
    v.setUint32(CONTROL.fault, 0, true);
    if (!word) return new VmError(-1, `${prog.name}: wasm trap: ${(e as Error).message}`);
    const pc = (word >>> 8) - 1;
    const code = word & 0xff;
    if (code === FAULT.fuel || code === FAULT.callDepth) return this.fault(prog, pc, code);
    try {
      checkOrigin(this.rt.mem, origins(prog)[pc]!, v.getBigUint64(CONTROL.fault + 8, true), code & 0xf, (code & 0x10) !== 0, pc);
    } catch (x) {
      if (x instanceof MemoryAccessError) return new VmError(pc, `${prog.name}: ${x.message}`);
      return x;
    }
    return new VmError(pc, `${prog.name}: pc ${pc}: the JIT's check of this access failed, the interpreter's passes`);
  }

  private fault(prog: VmProgram, pc: number, kind: number): VmError {
    const why = kind === FAULT.callDepth ? `more than ${MAX_CALL_FRAMES} call frames` : kind === FAULT.fuel ? `backward-jump budget of ${this.rt.maxSteps} exhausted (endless loop?)` : 'legacy packet load inside a subprogram';
    return new VmError(pc, `${prog.name}: pc ${pc}: ${why}`);
  }
}
