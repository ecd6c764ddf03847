// What a running program is connected to: VM memory, maps, the other programs (tail calls), the
// helpers' outside world (clock, random numbers, printk sink) and the packet of the current run.
// Both engines call helpers through here, so helpers are written once.
import type { Instruction } from '../isa/instruction.js';
import type { ProgramType } from '../uapi/bpf.js';
import type { Structure } from './check.js';
import type { Region, VmMemory } from './memory.js';
import type { VmMap } from './maps/map.js';
import type { ProgArrayMap } from './maps/prog-array.js';
import type { RingBufMap } from './maps/ringbuf.js';

export interface VmProgram {
  name: string;
  type: ProgramType;
  insns: Instruction[];
  /** Resolved 64-bit values of lddw slots (maps and global data replaced by VM addresses). */
  imm64: Map<number, bigint>;
  structure: Structure;
  /** Accepted by tsbpf's verifier (the engines check memory and burn fuel all the same). */
  verified?: boolean;
  /** Bytes below the frame pointer a run may touch, when the verifier bounded them (only these are
   *  zeroed before a run); undefined = the whole stack area. */
  stackUse?: number;
  /** Loads the verifier proved read through a tracing argument: probe reads (0 outside regions). */
  probeLoads?: ReadonlySet<number>;
  /** The map each lddw of a map (or of a map value) refers to, by slot. */
  maps?: ReadonlyMap<number, VmMap>;
}

/** The packet of the current run and where its pointers live in the context. */
export interface PacketState {
  kind: 'xdp' | 'skb';
  /** First byte the program may reach by moving data backwards (xdp_adjust_head). */
  hardStart: number;
  /** One past the last byte the buffer can grow to (xdp_adjust_tail). */
  hardEnd: number;
  data: number;
  dataEnd: number;
  dataMeta: number;
  ctx: number;
  region: Region;
  /** The widest extent the packet and its metadata have had this run (what the run may have written). */
  touchedLo: number;
  touchedHi: number;
}

/** Thrown for a fault during execution (bad memory access, limits, unknown helper). */
export class VmError extends Error {
  constructor(
    readonly pc: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Engine {
  exec(prog: VmProgram, ctx: bigint, fp: bigint, r2?: bigint): bigint;
  /** Optional: `n` runs in one go (the caller loops over exec when absent or undefined is returned). */
  execRepeat?(prog: VmProgram, ctx: bigint, fp: bigint, r2: bigint, n: number): bigint | undefined;
}

export type HelperFn = (rt: Runtime, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, pc: number) => bigint;

export const MAX_TAIL_CALL_CNT = 33;
export const MAX_CALL_FRAMES = 8;
export const STACK_SIZE = 512;

export class Runtime {
  readonly byHandle = new Map<number, VmMap>();
  readonly programs = new Map<string, VmProgram>();
  packet: PacketState | undefined;
  tailCalls = 0;
  /** Ring-buffer records reserved and not yet submitted or discarded in the current run. */
  readonly reserved = new Map<number, RingBufMap>();
  /** The "current task" the task helpers report; the host may set it per event. */
  task = { pid: 0, tgid: 0, uid: 0, gid: 0, comm: 'tsbpf-vm', cgroupId: 1n };
  engine!: Engine;
  /** Budget per run: instructions on the interpreter, backward jumps on the JIT; a run past it ends
   *  with an error (an endless loop), verified or not. */
  maxSteps = 50_000_000;
  /** When set, the interpreter marks each instruction slot it executes (of the program it runs). */
  coverage: Uint8Array | undefined;
  printk: (line: string) => void = () => {};
  clock: () => bigint = () => BigInt(Math.round(((globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now()) * 1e6));
  private seed = 0x2545f491;
  random: () => number = () => {
    // xorshift32: deterministic unless the host installs its own source.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  };

  constructor(
    readonly mem: VmMemory,
    readonly helpers: ReadonlyMap<number, HelperFn>,
  ) {}

  addMap(m: VmMap): void {
    this.byHandle.set(m.handle, m);
  }

  map(handle: bigint, pc: number): VmMap {
    const m = this.byHandle.get(Number(handle));
    if (!m || handle > 0xffffffffn) throw new VmError(pc, `pc ${pc}: 0x${handle.toString(16)} is not a map`);
    return m;
  }

  callHelper(id: number, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, pc: number): bigint {
    const h = this.helpers.get(id);
    if (!h) throw new VmError(pc, `pc ${pc}: helper ${id} is not provided by the VM`);
    return BigInt.asUintN(64, h(this, r1, r2, r3, r4, r5, pc));
  }

  /** The program a tail call would jump to, counting the call, or undefined (the call falls through). */
  tailTarget(mapHandle: bigint, index: bigint, pc: number): VmProgram | undefined {
    const m = this.map(mapHandle, pc) as ProgArrayMap;
    if (typeof m.program !== 'function') throw new VmError(pc, `pc ${pc}: tail call through '${m.name}', which is not a prog array`);
    if (index > 0xffffffffn) return undefined;
    const name = m.program(Number(index));
    if (name === undefined || this.tailCalls >= MAX_TAIL_CALL_CNT) return undefined;
    const p = this.programs.get(name);
    if (!p) return undefined;
    this.tailCalls++;
    return p;
  }
}
