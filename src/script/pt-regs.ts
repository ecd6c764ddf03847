// Where a kprobe's or uprobe's arguments and return value are: registers of the calling convention,
// saved in struct pt_regs, named as the kernel names the members (arch/x86/include/asm/ptrace.h,
// arch/arm64/include/asm/ptrace.h — what libbpf's PT_REGS_PARM macros read). With the kernel's BTF
// the offsets are looked up in its struct pt_regs; the table's offsets are the fallback.
import type { Btf } from '../btf/btf.js';
import { BtfKind } from '../btf/types.js';
import { findMember } from './checker/btf-types.js';

interface RegsLayout {
  /** the argument registers in order, as pt_regs members (`regs[3]`: element 3 of array member regs) */
  args: readonly string[];
  /** the return value register */
  ret: string;
  /** offsets of those members in struct pt_regs when there is no BTF to ask */
  offsets: Readonly<Record<string, number>>;
}

const regsArray = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`regs[${i}]`, i * 8]));

/** Per architecture, by Node's name for it (process.arch). */
const LAYOUTS: Readonly<Record<string, RegsLayout>> = {
  x64: {
    args: ['di', 'si', 'dx', 'cx', 'r8', 'r9'],
    ret: 'ax',
    offsets: { r15: 0, r14: 8, r13: 16, r12: 24, bp: 32, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72, ax: 80, cx: 88, dx: 96, si: 104, di: 112, orig_ax: 120, ip: 128, cs: 136, flags: 144, sp: 152, ss: 160 },
  },
  arm64: {
    args: ['regs[0]', 'regs[1]', 'regs[2]', 'regs[3]', 'regs[4]', 'regs[5]', 'regs[6]', 'regs[7]'],
    ret: 'regs[0]',
    offsets: { ...regsArray(31), sp: 248, pc: 256, pstate: 264 },
  },
};

export const PROBE_ARCHES = Object.keys(LAYOUTS);

/** Offsets in struct pt_regs of a probe's arguments (arg0..) and of its return value. */
export interface ProbeRegs {
  arch: string;
  args: number[];
  ret: number;
  /** reg("name"): the offset of a register by its pt_regs name (undefined: no such register) */
  reg(name: string): number | undefined;
  /** the stack pointer's offset (sargN: stack arguments above the return address) */
  sp: number;
}

export class ProbeRegsError extends Error {}

/** The probe registers of `arch`, with offsets from the kernel's BTF when it describes struct pt_regs. */
export function probeRegs(arch: string | undefined, btf?: Btf): ProbeRegs {
  if (arch === undefined) throw new ProbeRegsError("the machine's architecture is not known (ScriptMachine.arch): probe arguments are not either");
  const l = LAYOUTS[arch];
  if (!l) throw new ProbeRegsError(`probe arguments on ${arch} are not known (tsbpf knows ${PROBE_ARCHES.join(', ')})`);
  const ptRegs = btf?.findByName('pt_regs', BtfKind.STRUCT);
  const offset = (member: string): number => {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(member)!;
    const found = ptRegs ? findMember(btf!, ptRegs.id, m[1]!) : undefined;
    if (!found) return l.offsets[member]!;
    return found.offset + (m[2] ? Number(m[2]) * 8 : 0);
  };
  const named = (name: string): number | undefined => {
    const o = /^\w+(\[\d+\])?$/.test(name) ? offset(name) : undefined;
    return o !== undefined && Number.isFinite(o) ? o : undefined;
  };
  return { arch, args: l.args.map(offset), ret: offset(l.ret), reg: named, sp: offset('sp') };
}
