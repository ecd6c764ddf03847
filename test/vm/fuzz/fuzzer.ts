// The differential fuzzer: each generated or mutated program is judged by tsbpf's verifier and by the
// kernel's (BPF_PROG_LOAD of the same bytes, maps passed through fd_array), and every program tsbpf
// accepts runs on the interpreter and on the JIT over the same inputs. Findings:
// - unsound: tsbpf accepts what the kernel rejects for a reason not explained in classify.ts, or a
//   program tsbpf accepted faults at run time (the checking engines caught what the verifier missed);
// - engine: the interpreter and the JIT disagree (r0, output bytes, map contents, or the error).
import { Program } from '../../../src/kernel/program.js';
import { BpfMap } from '../../../src/maps/map.js';
import { MapFlags } from '../../../src/sys/bpf.js';
import type { Instruction } from '../../../src/isa/instruction.js';
import { MapType, ProgramType } from '../../../src/uapi/bpf.js';
import { verify, type VerifyResult } from '../../../src/vm/verifier/verify.js';
import { Vm, type EngineName } from '../../../src/vm/vm.js';
import { randomPacket } from '../packets.js';
import { Rng } from '../random-program.js';
import { classify } from './classify.js';
import { FUZZ_MAPS, generate, RO_VALUE, VMCTX_SIZE, type Target } from './gen.js';
import { mutate } from './mutate.js';

const BPF_F_SLEEPABLE = 1 << 4;
/** The kernel program type standing in for each target: the VM's own context is plain, writable
 *  memory of a size the host gives, as a syscall program's context is. */
const KERNEL_TYPE: Record<Target, ProgramType> = { socket: ProgramType.SOCKET_FILTER, xdp: ProgramType.XDP, vmctx: ProgramType.SYSCALL };
const VM_TYPE: Record<Target, ProgramType> = { socket: ProgramType.SOCKET_FILTER, xdp: ProgramType.XDP, vmctx: ProgramType.UNSPEC };

export interface Finding {
  kind: 'unsound' | 'engine';
  target: Target;
  seed: number;
  mutated: boolean;
  detail: string;
  insns: Instruction[];
}

export interface Counts {
  programs: number;
  tsbpfAccepted: number;
  kernelAccepted: number;
  /** Same verdict from both verifiers. */
  agreements: number;
  /** tsbpf gave up (its complexity budget); the kernel is not asked. */
  tooComplex: number;
  /** tsbpf rejects what the kernel accepts (stricter: safe, counted). */
  tsbpfStricter: number;
  /** tsbpf accepts what the kernel rejects, for a reason classify() explains; by class. */
  explained: Record<string, number>;
  /** Accepted programs run on both engines, and the runs. */
  executed: number;
  runs: number;
  findings: number;
}

export interface FuzzOptions {
  /** Ask the kernel too (needs root); without it only the run-time oracles apply. */
  kernel?: boolean;
  /** Verifier budget per program (kept low: the fuzzer wants many programs, not deep ones). */
  complexityLimit?: number;
  /** Inputs each accepted program runs on. */
  inputs?: number;
}

export class Fuzzer {
  readonly counts: Counts = { programs: 0, tsbpfAccepted: 0, kernelAccepted: 0, agreements: 0, tooComplex: 0, tsbpfStricter: 0, explained: {}, executed: 0, runs: 0, findings: 0 };
  readonly findings: Finding[] = [];
  /** tsbpf's rejection reasons where the kernel accepts, first words → count (what to tighten next). */
  readonly stricter = new Map<string, number>();
  private readonly kmaps: BpfMap[] = [];
  private readonly fds: number[] = [];
  readonly programIds: number[] = [];

  constructor(private readonly o: FuzzOptions = {}) {
    if (!o.kernel) return;
    for (const m of FUZZ_MAPS) {
      const readonly = 'readonly' in m && m.readonly;
      const map = BpfMap.create({ type: m.type as MapType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, name: m.name, flags: readonly ? MapFlags.RDONLY_PROG : 0 });
      if (readonly) {
        map.update(new Uint8Array(4), RO_VALUE);
        map.freeze();
      }
      this.kmaps.push(map);
      this.fds.push(map.fd);
    }
  }

  close(): void {
    for (const m of this.kmaps) m.close();
  }

  /** Fuzz one program: generated from `seed` for `target`, mutated when `mutated`. */
  one(target: Target, seed: number, mutated: boolean): void {
    const g = new Rng(seed * 7919 + 17);
    const base = generate(target, seed);
    const insns = mutated ? mutate(base, g) : base;
    this.judge(target, seed, mutated, insns, g);
  }

  judge(target: Target, seed: number, mutated: boolean, insns: Instruction[], g: Rng): void {
    const c = this.counts;
    c.programs++;
    const ours = this.tsbpfVerdict(target, insns);
    // A program that ran out tsbpf's (low) budget is one the kernel explores to its own limit of a
    // million instructions, for seconds, twice: not asked, only counted.
    const tooComplex = !ours.ok && /too complex/.test(ours.reason ?? '');
    if (tooComplex) c.tooComplex++;
    const kernel = this.o.kernel && !tooComplex ? this.kernelVerdict(target, insns) : undefined;
    if (ours.ok) c.tsbpfAccepted++;
    if (kernel?.ok) c.kernelAccepted++;
    const finding = (kind: Finding['kind'], detail: string): void => {
      c.findings++;
      this.findings.push({ kind, target, seed, mutated, detail, insns });
    };
    if (kernel) {
      if (kernel.ok === ours.ok) c.agreements++;
      else if (kernel.ok) {
        c.tsbpfStricter++;
        const key = (ours.reason ?? '').replace(/-?\d+/g, 'N').slice(0, 60);
        this.stricter.set(key, (this.stricter.get(key) ?? 0) + 1);
      } else {
        const why = classify(target, kernel.reason, insns, kernel.pc, ours.reached);
        if (why) c.explained[why] = (c.explained[why] ?? 0) + 1;
        else finding('unsound', `tsbpf accepts, the kernel rejects: ${kernel.reason} (at insn ${kernel.pc})`);
      }
    }
    if (!ours.ok) return;
    c.executed++;
    const problem = this.execute(target, insns, g, ours.reached!);
    if (problem) finding(problem.kind, problem.detail);
  }

  private tsbpfVerdict(target: Target, insns: Instruction[]): { ok: boolean; reason?: string; reached?: Uint8Array } {
    let vm: Vm;
    try {
      vm = this.vm(target, insns, false);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    const res: VerifyResult = vm.verify('p', { complexityLimit: this.o.complexityLimit ?? 100_000 });
    return { ok: res.ok, reason: res.reason, reached: res.reached };
  }

  private kernelVerdict(target: Target, insns: Instruction[]): { ok: boolean; reason?: string; pc?: number } {
    try {
      const p = Program.load({ type: KERNEL_TYPE[target], instructions: insns, license: 'GPL', name: 'fuzz', fdArray: this.fds, flags: target === 'vmctx' ? BPF_F_SLEEPABLE : 0 });
      this.programIds.push(p.id);
      p.close();
      return { ok: true };
    } catch (e) {
      const err = e as { reason?: string; instruction?: number; message: string };
      return { ok: false, reason: err.reason ?? err.message.split('\n')[0], pc: err.instruction };
    }
  }

  private vm(target: Target, insns: Instruction[], verified: boolean, engine?: EngineName): Vm {
    const maps = FUZZ_MAPS.map((m) => ({ ...m, type: m.type as MapType, initial: 'readonly' in m && m.readonly ? RO_VALUE : undefined }));
    return Vm.loadSync({ programs: [{ name: 'p', type: VM_TYPE[target], insns }], maps }, { verify: verified, engine, ctxSize: target === 'vmctx' ? VMCTX_SIZE : undefined });
  }

  /** Run an accepted program on both engines over the same inputs; a description of what went wrong. */
  private execute(target: Target, insns: Instruction[], g: Rng, reached: Uint8Array): { kind: Finding['kind']; detail: string } | undefined {
    const coverage = new Uint8Array(insns.length);
    const inputs = Array.from({ length: this.o.inputs ?? 4 }, () => (target === 'vmctx' ? Uint8Array.from({ length: VMCTX_SIZE }, () => g.int(256)) : randomPacket(g)));
    const outcomes = (['interp', 'jit'] as const).map((engine) => {
      const vm = this.vm(target, insns, true, engine);
      let t = 0n;
      vm.rt.clock = () => (t += 1000n); // helpers must not make the engines differ
      vm.rt.maxSteps = 2_000_000;
      if (engine === 'interp') vm.rt.coverage = coverage;
      const out: string[] = [];
      for (const input of inputs) {
        try {
          const r = vm.run('p', input);
          out.push(`r0=${r.r0.toString(16)} ${Buffer.from(r.packet ?? r.mem ?? new Uint8Array()).toString('hex')}`);
        } catch (e) {
          out.push(`error: ${(e as Error).message}`);
        }
      }
      for (const [name, m] of vm.maps) out.push(`${name}: ${[...m.entries()].map(([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`).join(' ')}`);
      return out;
    });
    this.counts.runs += inputs.length * 2;
    const [interp, jit] = outcomes as [string[], string[]];
    const fault = interp.find((l) => l.startsWith('error: '));
    if (fault) return { kind: 'unsound', detail: `accepted by tsbpf, yet the interpreter stops it: ${fault.slice(7)}` };
    const dead = coverage.findIndex((hit, pc) => hit === 1 && !reached[pc]);
    if (dead >= 0) return { kind: 'unsound', detail: `a run executed instruction ${dead}, which tsbpf's verifier never reached` };
    for (let k = 0; k < interp.length; k++) {
      if (interp[k] !== jit[k]) return { kind: 'engine', detail: `interpreter: ${interp[k]}\n    jit:         ${jit[k]}` };
    }
    return undefined;
  }

  /** A summary line per count, for reports. */
  summary(): string {
    const c = this.counts;
    const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
    const lines = [
      `programs fuzzed: ${c.programs}; accepted by tsbpf: ${c.tsbpfAccepted}, by the kernel: ${this.o.kernel ? c.kernelAccepted : 'not asked'}`,
      this.o.kernel ? `verdicts agree: ${c.agreements} of ${c.programs - c.tooComplex} asked (${pct(c.agreements, c.programs - c.tooComplex)}; ${c.tooComplex} past tsbpf's budget not asked); tsbpf stricter: ${c.tsbpfStricter}; explained differences: ${Object.values(c.explained).reduce((a, b) => a + b, 0)}` : '',
      ...Object.entries(c.explained).map(([k, n]) => `  explained: ${k}: ${n}`),
      `executed on both engines: ${c.executed} programs, ${c.runs} runs; findings: ${c.findings}`,
    ];
    return lines.filter(Boolean).join('\n');
  }
}
