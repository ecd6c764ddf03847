// The VM's front door: load programs (instructions, or an object's programs and maps), run them on
// the interpreter or the wasm JIT, over packets (XDP, tc, socket filter) or over a context the host
// defines (plugins), and read the maps, ring buffers and printk lines they produce.
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE } from '../isa/opcodes.js';
import { decode, imm64, LDDW, type Instruction } from '../isa/instruction.js';
import { BpfFunc, MapType, ProgramType } from '../uapi/bpf.js';
import type { Btf } from '../btf/btf.js';
import { BtfKind } from '../btf/types.js';
import { checkStructure } from './check.js';
import { SK_BUFF_SIZE, SKB, setupMemory, setupSkb, setupXdp, type RunFrame, type SkbOptions, type XdpOptions } from './context.js';
import { HELPER_FNS } from './helpers.js';
import { Interpreter } from './interpreter.js';
import { JitEngine, type PacketFunctions } from './jit/engine.js';
import { RECORD } from './jit/packet-entries.js';
import { ArrayMap } from './maps/array.js';
import { createMap } from './maps/index.js';
import type { MapSpec, VmMap } from './maps/map.js';
import { RingBufMap } from './maps/ringbuf.js';
import { ProgArrayMap } from './maps/prog-array.js';
import { parseObjectForVm } from './object.js';
import { VmMemory, type Region } from './memory.js';
import { MAX_CALL_FRAMES, Runtime, STACK_SIZE, VmError, type Engine, type VmProgram } from './runtime.js';
import { verify, type VerifyOptions, type VerifyResult } from './verifier/verify.js';

export type EngineName = 'interp' | 'jit';

export interface ProgramInput {
  name: string;
  type: ProgramType;
  /** lddw map references index the object's maps (BPF_PSEUDO_MAP_IDX / _FD imm). */
  insns: Instruction[];
  /** The C source line of a slot (from BTF line info), for verifier messages. */
  source?: (slot: number) => string | undefined;
}

export interface ObjectInput {
  programs: ProgramInput[];
  /** The object's BTF: lets hosts describe a plugin's context by a struct name. */
  btf?: Btf;
  maps?: (MapSpec & { initial?: Uint8Array; readonly?: boolean; slots?: [index: number, program: string][] })[];
}

export interface LoadOptions {
  /** Program type for raw instructions or bytecode (default SOCKET_FILTER-free generic: UNSPEC). */
  type?: ProgramType;
  name?: string;
  maps?: MapSpec[];
  engine?: EngineName;
  /** Run tsbpf's verifier on every program at load and refuse rejected ones (default true). */
  verify?: boolean;
  printk?: (line: string) => void;
  /** Size of the host-defined context of UNSPEC programs (plugins), for the verifier. */
  ctxSize?: number;
}

export interface RunOptions {
  engine?: EngineName;
  /** Run the program this many times on the same context and packet, like BPF_PROG_TEST_RUN's
   *  `repeat`: nothing is reset between runs (the packet, stack and context carry over) and the
   *  result is the last run's (default 1). */
  repeat?: number;
}

export interface RunResult {
  r0: bigint;
  /** The packet after the run (XDP, tc, socket filter), starting at the MAC header. */
  packet?: Uint8Array;
  /** The context bytes after the run (plugin hook, --mem). */
  mem?: Uint8Array;
}

export const XDP_ACTIONS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'] as const;

export class VmLoadError extends Error {}

const STACK_BYTES = MAX_CALL_FRAMES * STACK_SIZE;

export class Vm {
  readonly mem = new VmMemory();
  readonly rt = new Runtime(this.mem, HELPER_FNS);
  readonly maps = new Map<string, VmMap>();
  readonly verdicts = new Map<string, VerifyResult>();
  readonly sources = new Map<string, (slot: number) => string | undefined>();
  private ctxSize: number | undefined;
  private readonly hookVerified = new Map<string, number>();
  /** The loaded object's BTF, if any. */
  btf: Btf | undefined;
  private readonly engines: Record<EngineName, Engine>;
  private readonly stack: number;
  private readonly stackRegion: Region;
  private readonly mapList: VmMap[] = [];
  engine: EngineName;
  /** printk lines, in order, unless a printk callback was given. */
  readonly printkLines: string[] = [];

  private constructor(opts: LoadOptions) {
    this.engine = opts.engine ?? 'interp';
    this.rt.printk = opts.printk ?? ((l) => this.printkLines.push(l));
    this.stack = this.mem.alloc(STACK_BYTES);
    this.stackRegion = this.mem.addRegion({ start: this.stack, end: this.stack + STACK_BYTES, kind: 'stack', writable: true, label: 'stack' });
    this.mem.stackRegion = this.stackRegion;
    const interp = new Interpreter(this.rt);
    const jit = new JitEngine(this.rt);
    this.engines = { interp, jit };
    this.rt.engine = this.engines[this.engine];
  }

  /** Load raw instructions, bytecode (8-byte slots), an ELF object (with opts.parseObject) or an object description. */
  static async load(src: Uint8Array | Instruction[] | ObjectInput, opts: LoadOptions = {}): Promise<Vm> {
    return Vm.loadSync(src, opts);
  }

  static loadSync(src: Uint8Array | Instruction[] | ObjectInput, opts: LoadOptions = {}): Vm {
    let obj: ObjectInput;
    if (src instanceof Uint8Array) {
      const isElf = src.length >= 4 && src[0] === 0x7f && src[1] === 0x45 && src[2] === 0x4c && src[3] === 0x46;
      if (isElf) {
        obj = parseObjectForVm(src);
      } else {
        obj = { programs: [{ name: opts.name ?? 'prog', type: opts.type ?? ProgramType.UNSPEC, insns: decode(src) }], maps: opts.maps };
      }
    } else if (Array.isArray(src)) {
      obj = { programs: [{ name: opts.name ?? 'prog', type: opts.type ?? ProgramType.UNSPEC, insns: src }], maps: opts.maps };
    } else obj = src;
    const vm = new Vm(opts);
    vm.ctxSize = opts.ctxSize;
    vm.btf = obj.btf;
    for (const spec of obj.maps ?? []) {
      const m = createMap(spec, vm.mem, { readonly: 'readonly' in spec ? spec.readonly : false });
      if ('initial' in spec && spec.initial && m instanceof ArrayMap) vm.mem.write(m.base, spec.initial);
      vm.mapList.push(m);
      vm.maps.set(spec.name, m);
      vm.rt.addMap(m);
    }
    for (const spec of obj.maps ?? []) {
      const m = vm.maps.get(spec.name);
      if (m instanceof ProgArrayMap) for (const [i, name] of spec.slots ?? []) m.setProgram(i, name);
    }
    for (const p of obj.programs) {
      const prog = vm.link(p);
      if (opts.verify ?? true) {
        const res = verify(prog, { maps: vm.mapList, source: p.source, ctxSize: opts.ctxSize });
        vm.verdicts.set(p.name, res);
        if (!res.ok) throw new VmLoadError(`program '${p.name}' rejected by the verifier:\n${res.messages.join('\n')}`);
        markVerified(prog, res);
      }
      vm.rt.programs.set(p.name, prog);
      if (p.source) vm.sources.set(p.name, p.source);
    }
    return vm;
  }

  private link(p: ProgramInput): VmProgram {
    let structure;
    try {
      structure = checkStructure(p.insns, { reserved: false });
    } catch (e) {
      throw new VmLoadError(`program '${p.name}': ${(e as Error).message}`);
    }
    const values = new Map<number, bigint>();
    const maps = new Map<number, VmMap>();
    p.insns.forEach((i, pc) => {
      if (i.code !== LDDW || (pc > 0 && p.insns[pc - 1]!.code === LDDW && values.has(pc - 1))) return;
      const map = (): VmMap => {
        const m = this.mapList[i.imm];
        if (!m) throw new VmLoadError(`program '${p.name}': pc ${pc}: lddw refers to map ${i.imm}, but there are ${this.mapList.length}`);
        maps.set(pc, m);
        return m;
      };
      switch (i.src) {
        case BPF_PSEUDO_MAP_FD:
        case BPF_PSEUDO_MAP_IDX:
          values.set(pc, BigInt(map().handle));
          break;
        case BPF_PSEUDO_MAP_VALUE:
        case BPF_PSEUDO_MAP_IDX_VALUE: {
          const m = map();
          const off = p.insns[pc + 1]!.imm >>> 0;
          if (!(m instanceof ArrayMap) || off >= m.spec.valueSize) throw new VmLoadError(`program '${p.name}': pc ${pc}: map value reference into '${m.name}' at ${off} is invalid`);
          values.set(pc, BigInt(m.base + off));
          break;
        }
        case BPF_PSEUDO_FUNC:
          values.set(pc, BigInt(pc + 1 + i.imm));
          break;
        default:
          values.set(pc, imm64(p.insns, pc));
      }
    });
    return { name: p.name, type: p.type, insns: p.insns, imm64: values, structure, maps };
  }

  get programs(): string[] {
    return [...this.rt.programs.keys()];
  }

  program(name?: string): VmProgram {
    const p = name === undefined ? this.rt.programs.values().next().value : this.rt.programs.get(name);
    if (!p) throw new VmLoadError(name === undefined ? 'no programs loaded' : `no program '${name}' (have: ${this.programs.join(', ')})`);
    return p;
  }

  verify(name?: string, opts: Omit<VerifyOptions, 'maps'> = {}): VerifyResult {
    const p = this.program(name);
    return verify(p, { source: this.sources.get(p.name), ctxSize: this.ctxSize, ...opts, maps: this.mapList });
  }

  /** Verify one program loaded without verification, as load does: its verdict is recorded and, when
   *  rejected, thrown as a VmLoadError naming it. */
  admit(name?: string): VerifyResult {
    const p = this.program(name);
    const res = this.verify(p.name);
    this.verdicts.set(p.name, res);
    if (!res.ok) throw new VmLoadError(`program '${p.name}' rejected by the verifier:\n${res.messages.join('\n')}`);
    markVerified(p, res);
    return res;
  }

  ringbuf(name: string): RingBufMap {
    const m = this.maps.get(name);
    if (!(m instanceof RingBufMap)) throw new VmLoadError(`no ring buffer '${name}'`);
    return m;
  }

  private execute(prog: VmProgram, f: RunFrame, opts: RunOptions, r2 = 0n): bigint {
    const e = this.engines[opts.engine ?? this.engine];
    const repeat = opts.repeat ?? 1;
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 0xffffffff) throw new RangeError(`repeat must be an integer in [1, 2^32): ${repeat}`);
    this.rt.engine = e;
    this.rt.tailCalls = 0;
    const top = this.stack + STACK_BYTES;
    // Runs start from a zeroed stack, so reads of never-written bytes are deterministic; when the
    // verifier bounded the depth only that much is cleared.
    this.mem.bytes.fill(0, top - (prog.stackUse ?? STACK_BYTES), top);
    try {
      const ctx = BigInt(f.ctx);
      const fp = BigInt(top);
      let r0 = repeat > 1 ? e.execRepeat?.(prog, ctx, fp, r2, repeat) : undefined;
      if (r0 === undefined) {
        r0 = e.exec(prog, ctx, fp, r2);
        // A leaked ring-buffer record is reported after the run that leaked it.
        for (let k = 1; k < repeat && !this.rt.reserved.size; k++) {
          this.rt.tailCalls = 0;
          r0 = e.exec(prog, ctx, fp, r2);
        }
      }
      if (this.rt.reserved.size) throw new VmError(-1, `${prog.name}: exited holding ${this.rt.reserved.size} ring-buffer record(s) it neither submitted nor discarded`);
      return r0;
    } finally {
      for (const [a, m] of this.rt.reserved) m.commit(a, true);
      this.rt.reserved.clear();
      this.mem.flushRetired();
    }
  }

  /** Run a program. For XDP/tc/socket-filter programs `input` is a packet; otherwise it is the context
   *  memory (r1 points at a copy of it, r2 holds its length), empty if absent. */
  run(name: string | undefined, input: Uint8Array = new Uint8Array(0), opts: RunOptions = {}): RunResult {
    const prog = this.program(name);
    switch (prog.type) {
      case ProgramType.XDP:
        return this.runXdp(prog.name, input, opts);
      case ProgramType.SCHED_CLS:
      case ProgramType.SCHED_ACT:
        return this.runSkb(prog.name, input, { ...opts, l2: true });
      case ProgramType.SOCKET_FILTER:
      case ProgramType.CGROUP_SKB:
        return this.runSkb(prog.name, input, { ...opts, l2: false });
    }
    const f = setupMemory(this.rt, input);
    try {
      const r0 = this.execute(prog, f, opts, BigInt(input.length));
      return { r0, mem: f.output() };
    } finally {
      f.dispose();
    }
  }

  runXdp(name: string | undefined, packet: Uint8Array, opts: RunOptions & XdpOptions = {}): RunResult & { action: string } {
    const prog = this.program(name);
    const f = setupXdp(this.rt, packet, opts);
    try {
      const r0 = this.execute(prog, f, opts);
      return { r0, action: XDP_ACTIONS[Number(r0)] ?? `XDP_${r0}`, packet: f.output() };
    } finally {
      f.dispose();
    }
  }

  runSkb(name: string | undefined, packet: Uint8Array, opts: RunOptions & SkbOptions = {}): RunResult {
    const prog = this.program(name);
    const f = setupSkb(this.rt, packet, { l2: true, ...opts });
    try {
      const r0 = this.execute(prog, f, opts);
      return { r0, packet: f.output() };
    } finally {
      f.dispose();
    }
  }

  /** A socket filter: r0 is how many bytes of the packet to keep (0 drops it). */
  runSocketFilter(name: string | undefined, packet: Uint8Array, opts: RunOptions & SkbOptions = {}): RunResult {
    return this.runSkb(name, packet, { ...opts, l2: false });
  }

  /**
   * A socket filter as a function of packets already in VM memory: its verdict (r0, 32 bits) on
   * the packet at [start, start + caplen), `wirelen` long on the wire (the __sk_buff's len). The
   * packets are read-only: what a filter of a capture file needs (legacy packet loads, the
   * __sk_buff), with neither helpers nor direct packet access, so that on the JIT a packet costs one
   * call into wasm with no BigInt. The program must have passed the verifier (stacks are not cleared
   * between packets). Until close(), the VM runs nothing else.
   */
  packetFilter(name: string | undefined, opts: { engine?: EngineName } = {}): PacketFunctions & { close(): void } {
    const prog = this.program(name);
    if (prog.type !== ProgramType.SOCKET_FILTER) throw new VmLoadError(`${prog.name}: packet filters are socket filters, not ${ProgramType[prog.type]}`);
    if (!prog.verified) throw new VmLoadError(`${prog.name}: packet filters run verified programs only`);
    if (prog.insns.some((i) => i.code === (BPF_JMP | BPF_CALL))) throw new VmLoadError(`${prog.name}: a packet filter calls nothing`);
    const mem = this.mem;
    const ctx = mem.alloc(SK_BUFF_SIZE);
    const ctxRegion = mem.addRegion({ start: ctx, end: ctx + SK_BUFF_SIZE, kind: 'ctx', writable: true, label: '__sk_buff context' });
    // the interpreter's packet: a region and the state its legacy loads read, moved per packet
    const region: Region = { start: 0, end: 0, kind: 'packet', writable: false, label: 'packet' };
    mem.addRegion(region);
    mem.ctxRegion = ctxRegion;
    mem.packetRegion = region;
    mem.publish();
    const fp = BigInt(this.stack + STACK_BYTES);
    const engine = opts.engine ?? this.engine;
    this.rt.engine = this.engines[engine];
    const close = (): void => {
      mem.removeRegion(ctxRegion);
      mem.removeRegion(region);
      mem.release(ctx);
      this.rt.packet = undefined;
      mem.ctxRegion = mem.packetRegion = undefined;
      mem.republish(); // the JIT wrote the control block behind publish()'s back
    };
    if (engine === 'jit') return { ...(this.engines.jit as JitEngine).packetFunctions(prog, BigInt(ctx), fp), close };
    const v = mem.view;
    const verdict = (start: number, caplen: number, wirelen: number): number => {
      const end = start + caplen;
      region.start = start;
      region.end = end;
      mem.resort();
      mem.publish();
      this.rt.packet = { kind: 'skb', hardStart: start, hardEnd: end, data: start, dataEnd: end, dataMeta: start, ctx, region, touchedLo: start, touchedHi: end };
      v.setUint32(ctx + SKB.len, wirelen, true);
      this.rt.tailCalls = 0;
      return Number(this.engines.interp.exec(prog, BigInt(ctx), fp) & 0xffffffffn);
    };
    // the JIT's run_skb_records, record by record (packet-entries.ts)
    const records = (pos: number, end: number, snap: number, out: number, max: number): number => {
      let kept = 0;
      let read = 0;
      while (kept < max && pos + RECORD.header <= end) {
        const caplen = v.getUint32(pos + RECORD.caplen, true);
        const next = pos + RECORD.header + caplen;
        if (caplen > snap || next > end) break;
        const r0 = verdict(pos + RECORD.header, caplen, v.getUint32(pos + RECORD.wirelen, true));
        if (r0 !== 0) {
          v.setUint32(out + 8 + 8 * kept, pos, true);
          v.setUint32(out + 12 + 8 * kept++, r0, true);
        }
        pos = next;
        read++;
      }
      v.setUint32(out, pos, true);
      v.setUint32(out + 4, read, true);
      return kept;
    };
    return { verdict, records, close };
  }

  /** The plugin hook, with the context laid out as `struct` of the object's BTF. */
  hookBtf(name: string, struct: string) {
    if (!this.btf) throw new VmLoadError('the loaded program has no BTF; describe the context by layout with hook()');
    const { layout, size } = btfLayout(this.btf, struct);
    return this.hook(name, layout, size);
  }

  /**
   * The plugin hook: run a program on an event of the host's own, described by a context struct the
   * host lays out (`layout` maps field names to [offset, size]); returns r0 and the struct after the
   * run (programs may write fields they are allowed to).
   */
  hook(name: string, layout: Record<string, readonly [offset: number, size: 1 | 2 | 4 | 8]>, size: number) {
    const prog = this.program(name);
    if (this.hookVerified.get(name) !== size) {
      // Plugins run verified: check the program against this context size now.
      const res = this.verify(name, { ctxSize: size });
      if (!res.ok) throw new VmLoadError(`program '${name}' rejected by the verifier:\n${res.messages.join('\n')}`);
      markVerified(prog, res);
      this.hookVerified.set(name, size);
    }
    return (event: Record<string, number | bigint>, opts: RunOptions = {}): { r0: bigint; ctx: Record<string, bigint> } => {
      const bytes = new Uint8Array(size);
      const v = new DataView(bytes.buffer);
      for (const [k, [off, sz]] of Object.entries(layout)) {
        const val = BigInt.asUintN(64, BigInt(event[k] ?? 0));
        if (sz === 8) v.setBigUint64(off, val, true);
        else if (sz === 4) v.setUint32(off, Number(val & 0xffffffffn), true);
        else if (sz === 2) v.setUint16(off, Number(val & 0xffffn), true);
        else v.setUint8(off, Number(val & 0xffn));
      }
      const res = this.run(name, bytes, opts);
      const out = new DataView(res.mem!.buffer, res.mem!.byteOffset, res.mem!.byteLength);
      const ctx: Record<string, bigint> = {};
      for (const [k, [off, sz]] of Object.entries(layout)) {
        ctx[k] = sz === 8 ? out.getBigUint64(off, true) : BigInt(sz === 4 ? out.getUint32(off, true) : sz === 2 ? out.getUint16(off, true) : out.getUint8(off));
      }
      return { r0: res.r0, ctx };
    };
  }
}

/**
 * The plugin hook with the context described by a struct of the object's BTF (e.g. `struct event`):
 * every integer member (1, 2, 4 or 8 bytes, not a bitfield) becomes a field of the event object.
 */
export function btfLayout(btf: Btf, struct: string): { layout: Record<string, readonly [number, 1 | 2 | 4 | 8]>; size: number } {
  const t = btf.findByName(struct.replace(/^struct\s+/, ''), BtfKind.STRUCT);
  if (!t || t.kind !== BtfKind.STRUCT) throw new VmLoadError(`no struct '${struct}' in the object's BTF`);
  const layout: Record<string, readonly [number, 1 | 2 | 4 | 8]> = {};
  for (const m of t.members) {
    const size = btf.sizeof(m.type);
    if (m.bitfieldSize || m.bitOffset % 8 || ![1, 2, 4, 8].includes(size) || !m.name) continue;
    const k = btf.resolve(m.type).kind;
    if (k !== BtfKind.INT && k !== BtfKind.ENUM && k !== BtfKind.ENUM64 && k !== BtfKind.PTR) continue;
    layout[m.name] = [m.bitOffset / 8, size as 1 | 2 | 4 | 8];
  }
  return { layout, size: t.size };
}

void MapType;

/** Record the verifier's acceptance: probe reads, and how much stack a run may touch (only that much is zeroed). */
function markVerified(prog: VmProgram, res: VerifyResult): void {
  prog.verified = true;
  prog.probeLoads = res.probeLoads?.length ? new Set(res.probeLoads) : undefined;
  // Subprograms' frames sit below the caller's at 512-byte steps: bound only single-function programs.
  // Tail-called programs share the frame, so their depth counts too: bound only programs without them.
  const tail = prog.insns.some((i) => i.code === (BPF_JMP | BPF_CALL) && i.src === 0 && i.imm === BpfFunc.tail_call);
  prog.stackUse = prog.structure.subprogs.length === 1 && !tail ? Math.min(STACK_SIZE, (res.stats.maxStackDepth + 7) & ~7) : undefined;
}
