// Runs programs through the wasm JIT: compiles each program once, instantiates it against the VM's
// memory and helper table, and turns wasm traps and faults into VmErrors.
import { ldPacket, probeLoad } from '../interpreter.js';
import { VmError, type Engine, type Runtime, type VmProgram } from '../runtime.js';
import { compile, FAULT } from './compile.js';
import { wasmApi } from './wasm-global.js';

type Main = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, fp: bigint) => bigint;

interface Compiled {
  main: Main;
  setFuel: (n: bigint) => void;
  runN: (ctx: bigint, r2: bigint, fp: bigint, n: number) => bigint;
  usesTailCall: boolean;
}

const I64_MASK = (1n << 64n) - 1n;

export class JitEngine implements Engine {
  private readonly cache = new WeakMap<VmProgram, Compiled>();
  /** Backward jumps allowed per run before an (unverified) program is declared endless. */
  fuel = 1n << 32n;
  private tailR0 = 0n;
  /** Stack area the runtime hands out; frames below it fault. */
  stackBase = 0;

  constructor(private readonly rt: Runtime) {}

  compiled(prog: VmProgram): Compiled {
    let c = this.cache.get(prog);
    if (c) return c;
    const rt = this.rt;
    const { bytes, helperIds, usesTailCall } = compile(prog, this.stackBase);
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
      ld_packet: (off: bigint, size: number, _pc: number): bigint => {
        const v = ldPacket(rt, off, size);
        return v === undefined ? -1n : v;
      },
      probe_load: (addr: bigint, how: number): bigint => {
        const size = how & 0xff;
        const v = probeLoad(rt.mem, addr, size);
        return BigInt.asIntN(64, how & 0x100 ? BigInt.asIntN(size * 8, v) : v);
      },
      fault: (pc: number, kind: number): void => {
        const why = kind === FAULT.callDepth ? 'more than 8 call frames' : kind === FAULT.fuel ? 'backward-jump budget exhausted (endless loop?)' : 'legacy packet load inside a subprogram';
        throw new VmError(pc, `${prog.name}: pc ${pc}: ${why}`);
      },
    };
    const inst = new api.Instance(new api.Module(bytes), { vm, helper: helpers });
    const x = inst.exports;
    c = { main: x.main as Main, setFuel: x.set_fuel as Compiled['setFuel'], runN: x.run_n as Compiled['runN'], usesTailCall };
    this.cache.set(prog, c);
    return c;
  }

  exec(prog: VmProgram, ctx: bigint, fp: bigint, r2 = 0n): bigint {
    const c = this.compiled(prog);
    if (!prog.verified) c.setFuel(this.fuel);
    try {
      return BigInt.asUintN(64, c.main(BigInt.asIntN(64, ctx), BigInt.asIntN(64, r2), 0n, 0n, 0n, BigInt.asIntN(64, fp)));
    } catch (e) {
      throw this.trap(prog, e);
    }
  }

  /** `n` runs inside wasm, or undefined when the caller must loop (unverified programs burn fuel per
   *  run, tail calls are counted per run). */
  execRepeat(prog: VmProgram, ctx: bigint, fp: bigint, r2: bigint, n: number): bigint | undefined {
    const c = this.compiled(prog);
    if (!prog.verified || c.usesTailCall) return undefined;
    try {
      return BigInt.asUintN(64, c.runN(BigInt.asIntN(64, ctx), BigInt.asIntN(64, r2), BigInt.asIntN(64, fp), n));
    } catch (e) {
      throw this.trap(prog, e);
    }
  }

  private trap(prog: VmProgram, e: unknown): unknown {
    if (e instanceof VmError) return e;
    const name = (e as Error)?.constructor?.name;
    if (name === 'RuntimeError') return new VmError(-1, `${prog.name}: wasm trap: ${(e as Error).message}`);
    return e;
  }
}
