// USDT probes (SystemTap SDT notes, parsed in src/elf/usdt.ts) as script attach points: each note's
// argument spec (`-4@%edi`, `8@-16(%rbp)`, `8@$5`) read into where arg0.. are at the probe: a
// register of struct pt_regs, memory at a register plus an offset, or a constant; its size and sign.
import { FP, R0, R1, R2, R3, R6, imm } from '../isa/builder.js';
import type { GenContext } from './builtins/context.js';

export interface UsdtNote {
  provider: string;
  name: string;
  args: string;
  fileOffset: number;
  semaphoreOffset: number;
}

export interface UsdtArgument {
  size: 1 | 2 | 4 | 8;
  signed: boolean;
  loc: { kind: 'reg'; reg: string } | { kind: 'mem'; reg: string; off: number } | { kind: 'imm'; value: bigint };
}

export class UsdtError extends Error {}

// x86-64 register names of any width → the pt_regs member
const X86: Record<string, string> = {};
for (const [r, names] of Object.entries({
  ax: ['rax', 'eax', 'ax', 'al', 'ah'], bx: ['rbx', 'ebx', 'bx', 'bl', 'bh'], cx: ['rcx', 'ecx', 'cx', 'cl', 'ch'], dx: ['rdx', 'edx', 'dx', 'dl', 'dh'],
  si: ['rsi', 'esi', 'si', 'sil'], di: ['rdi', 'edi', 'di', 'dil'], bp: ['rbp', 'ebp', 'bp', 'bpl'], sp: ['rsp', 'esp', 'sp', 'spl'], ip: ['rip'],
})) for (const n of names) X86[n] = r;
for (let i = 8; i <= 15; i++) for (const suf of ['', 'd', 'w', 'b']) X86[`r${i}${suf}`] = `r${i}`;

function regName(arch: string, r: string): string {
  if (arch === 'x64') {
    const n = X86[r];
    if (!n) throw new UsdtError(`unknown register %${r} in a USDT argument`);
    return n;
  }
  // arm64 specs name x0..x30 (and sp)
  const m = /^[xw](\d+)$/.exec(r);
  if (m) return `regs[${m[1]}]`;
  if (r === 'sp') return 'sp';
  throw new UsdtError(`unknown register ${r} in a USDT argument`);
}

/** The arguments of a note's spec, in order. */
export function usdtArguments(spec: string, arch: string): UsdtArgument[] {
  return spec.trim().split(/\s+/).filter(Boolean).map((a) => {
    const m = /^(-?)(1|2|4|8)@(.+)$/.exec(a);
    if (!m) throw new UsdtError(`cannot read the USDT argument '${a}'`);
    const size = Number(m[2]) as 1 | 2 | 4 | 8;
    const signed = m[1] === '-';
    const op = m[3]!;
    let mm: RegExpExecArray | null;
    if ((mm = /^\$(-?(?:0x[0-9a-f]+|\d+))$/i.exec(op))) return { size, signed, loc: { kind: 'imm', value: BigInt(mm[1]!.replace(/^-/, '')) * (mm[1]!.startsWith('-') ? -1n : 1n) } };
    if ((mm = /^%(\w+)$/.exec(op))) return { size, signed, loc: { kind: 'reg', reg: regName(arch, mm[1]!) } };
    if ((mm = /^(-?\d*)\(%(\w+)\)$/.exec(op))) return { size, signed, loc: { kind: 'mem', reg: regName(arch, mm[2]!), off: Number(mm[1] || 0) } };
    // arm64: [x0, 8] / [sp]
    if ((mm = /^\[(\w+)(?:,\s*(-?\d+))?\]$/.exec(op))) return { size, signed, loc: { kind: 'mem', reg: regName(arch, mm[1]!), off: Number(mm[2] ?? 0) } };
    if ((mm = /^(\w+)$/.exec(op)) && arch !== 'x64') return { size, signed, loc: { kind: 'reg', reg: regName(arch, mm[1]!) } };
    throw new UsdtError(`cannot read the USDT argument '${a}'`);
  });
}

/** r0 = the argument's value, sign- or zero-extended from its size. */
export function usdtArgumentCode(g: GenContext, a: UsdtArgument, pos: Parameters<GenContext['alloc']>[1]): void {
  const b = g.b;
  const reg = (name: string): number => {
    const o = g.regs.reg(name);
    if (o === undefined) throw g.err(`register ${name} is not in struct pt_regs`, pos);
    return o;
  };
  if (a.loc.kind === 'imm') b.movImm(R0, a.loc.value);
  else if (a.loc.kind === 'reg') b.ldx('u64', R0, R6, reg(a.loc.reg));
  else {
    const m = g.mark();
    const tmp = g.alloc(8, pos);
    b.st('u64', FP, tmp, 0).ldx('u64', R3, R6, reg(a.loc.reg)).add64(R3, imm(a.loc.off));
    b.mov64(R1, FP).add64(R1, imm(tmp)).mov64(R2, imm(a.size)).call('probe_read_user').ldx('u64', R0, FP, tmp);
    g.release(m);
  }
  if (a.size < 8 || a.signed) g.narrow(a.size, a.signed);
}
