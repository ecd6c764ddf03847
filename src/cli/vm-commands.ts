// What `tsbpf vm verify` and `tsbpf vm run` do, as pure functions: options in, output text and exit
// code out (src/cli/vm.ts reads the files and prints). PROG may be an ELF object, raw bytecode, hex
// text or assembly text. Kept out of src/vm/: the runtime holds no command-line conventions (exit
// codes, pcap files).
import { assemble } from '../isa/asm.js';
import { decode, type Instruction } from '../isa/instruction.js';
import { readPcap } from '../net/pcap.js';
import { ProgramType } from '../uapi/bpf.js';
import { Vm, XDP_ACTIONS, type EngineName } from '../vm/vm.js';

export interface CommandResult {
  output: string;
  exitCode: number;
}

export type ProgKind = 'object' | 'bytecode' | 'hex' | 'asm';

const isElf = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

/** What kind of program text or bytes this is. */
export function progKind(b: Uint8Array): ProgKind {
  if (isElf(b)) return 'object';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(b);
  const printable = [...b].every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127));
  if (printable && /^[\s0-9a-fA-F]*$/.test(text) && text.replace(/\s/g, '').length % 16 === 0 && text.trim().length > 0) return 'hex';
  if (printable) return 'asm';
  return 'bytecode';
}

function instructions(b: Uint8Array, kind: ProgKind): Instruction[] {
  switch (kind) {
    case 'bytecode':
      return decode(b);
    case 'hex': {
      const hex = new TextDecoder().decode(b).replace(/\s/g, '');
      return decode(Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)));
    }
    case 'asm': {
      const r = assemble(new TextDecoder().decode(b));
      if (r.relocations.length) throw new Error(`assembly refers to maps (${r.relocations.map((x) => x.map).join(', ')}); raw programs cannot create maps — use an object file`);
      return r.insns;
    }
  }
  throw new Error('an object file has no single instruction stream');
}

const PROGRAM_TYPES: Record<string, ProgramType> = {
  xdp: ProgramType.XDP, socket: ProgramType.SOCKET_FILTER, tc: ProgramType.SCHED_CLS, kprobe: ProgramType.KPROBE,
  tracepoint: ProgramType.TRACEPOINT, raw_tp: ProgramType.RAW_TRACEPOINT, none: ProgramType.UNSPEC,
};

function load(prog: Uint8Array, o: { type?: string; ctxSize?: number; verify?: boolean; engine?: EngineName }): Vm {
  const kind = progKind(prog);
  const type = o.type ? PROGRAM_TYPES[o.type] : undefined;
  if (o.type && type === undefined) throw new Error(`unknown program type '${o.type}' (${Object.keys(PROGRAM_TYPES).join(', ')})`);
  if (kind === 'object') return Vm.loadSync(prog, { verify: o.verify ?? false, engine: o.engine, ctxSize: o.ctxSize });
  return Vm.loadSync(instructions(prog, kind), { type: type ?? ProgramType.UNSPEC, verify: o.verify ?? false, engine: o.engine, ctxSize: o.ctxSize });
}

export interface VmVerifyOptions {
  /** The program file's contents. */
  prog: Uint8Array;
  /** Program name in an object (default: every program). */
  name?: string;
  /** Program type for raw programs: xdp, socket, tc, kprobe, tracepoint, raw_tp, none. */
  type?: string;
  /** Context size for programs of type none (plugins). */
  ctxSize?: number;
  /** Print the registers before every instruction processed. */
  verbose?: boolean;
}

/** `tsbpf vm verify PROG [--prog NAME]`: the verdict and messages; exit 0 accept, 1 reject, 2 error. */
export function vmVerifyCommand(o: VmVerifyOptions): CommandResult {
  let vm: Vm;
  try {
    vm = load(o.prog, { type: o.type, ctxSize: o.ctxSize });
  } catch (e) {
    return { output: `error: ${(e as Error).message}\n`, exitCode: 2 };
  }
  const names = o.name ? [o.name] : vm.programs;
  const lines: string[] = [];
  let ok = true;
  for (const name of names) {
    let res;
    try {
      const trace: string[] = [];
      res = vm.verify(name, o.verbose ? { trace: (pc, regs) => void trace.push(`  ${pc}: ${regs}`) } : {});
      if (o.verbose) lines.push(...trace.slice(0, 10_000));
    } catch (e) {
      return { output: `${lines.join('\n')}\nerror: ${(e as Error).message}\n`, exitCode: 2 };
    }
    ok &&= res.ok;
    lines.push(`${res.ok ? 'ACCEPT' : 'REJECT'} ${name}`);
    lines.push(...res.messages.map((m) => (m.startsWith('  ') ? m : `  ${m}`)));
  }
  return { output: lines.join('\n') + '\n', exitCode: ok ? 0 : 1 };
}

export interface VmRunOptions {
  prog: Uint8Array;
  name?: string;
  type?: string;
  /** Memory r1 points at (hex text); r2 holds its length. */
  mem?: string;
  /** A pcap file: run the (XDP / tc / socket filter) program on every packet. */
  pcap?: Uint8Array;
  engine?: EngineName;
  /** Verify before running (default true for objects with a known program type). */
  verify?: boolean;
}

function hexBytes(s: string): Uint8Array {
  const h = s.replace(/^0x/, '').replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new Error(`--mem: '${s}' is not an even number of hex digits`);
  return Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
}

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** `tsbpf vm run PROG [--mem HEX] [--pcap FILE] [--engine interp|jit]`: prints r0 in hex (a verdict per packet). */
export function vmRunCommand(o: VmRunOptions): CommandResult {
  try {
    const mem = o.mem !== undefined ? hexBytes(o.mem) : new Uint8Array(0);
    const vm = load(o.prog, { type: o.type, verify: false, engine: o.engine, ctxSize: mem.length || undefined });
    const prog = vm.program(o.name);
    // Only the program that runs is verified: another program of the object must not decide.
    if (o.verify) vm.admit(prog.name);
    const lines: string[] = [];
    if (o.pcap) {
      const { records } = readPcap(o.pcap);
      records.forEach((r, k) => {
        const res = vm.run(prog.name, r.data);
        const verdict = prog.type === ProgramType.XDP ? (XDP_ACTIONS[Number(res.r0)] ?? `XDP_${res.r0}`) : prog.type === ProgramType.SOCKET_FILTER ? (res.r0 === 0n ? 'DROP' : `KEEP ${res.r0}`) : `r0=0x${res.r0.toString(16)}`;
        lines.push(`${k + 1} ${verdict}${res.packet && hex(res.packet) !== hex(r.data) ? ' (packet modified)' : ''}`);
      });
    } else {
      const res = vm.run(prog.name, mem);
      lines.push(`0x${res.r0.toString(16)}`);
      if (o.mem !== undefined && res.mem && hex(res.mem) !== hex(mem)) lines.push(`mem: ${hex(res.mem)}`);
    }
    for (const l of vm.printkLines) lines.push(`printk: ${l}`);
    return { output: lines.join('\n') + '\n', exitCode: 0 };
  } catch (e) {
    return { output: `error: ${(e as Error).message}\n`, exitCode: 1 };
  }
}
