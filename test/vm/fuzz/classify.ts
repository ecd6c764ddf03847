// Why the kernel rejects a program tsbpf accepts, when that is no safety problem of tsbpf's. Every
// class here is a deliberate difference between the VM and the kernel, explained where it is listed;
// anything not listed is a finding (the fuzzer fails on it).
import type { Instruction } from '../../../src/isa/instruction.js';
import type { Target } from './gen.js';

interface Explained {
  name: string;
  targets?: readonly Target[];
  reason: RegExp;
  /** A further test on the message, when the pattern alone would cover more than the class. */
  also?: (reason: string) => boolean;
}

const EXPLAINED: readonly Explained[] = [
  {
    // The VM hands a host-defined context's length to the program in r2 (`vm run --mem`, plugins);
    // a syscall program, the kernel's stand-in for it, has only r1.
    name: 'the VM context length in r2',
    targets: ['vmctx'],
    reason: /^R2 !read_ok$/,
  },
  {
    // The VM's own context is plain memory the host lays out: any access inside it is allowed, aligned
    // or not. A syscall program's context must be accessed naturally aligned.
    name: 'misaligned access to the VM context',
    targets: ['vmctx'],
    reason: /^invalid bpf_context access off=\d+ size=\d+$/,
    also: (reason) => {
      const [, off, size] = /off=(\d+) size=(\d+)/.exec(reason)!;
      return Number(off) % Number(size) !== 0;
    },
  },
];

/** The name of the explained class of a kernel rejection, or undefined when it is unexplained. */
export function classify(target: Target, reason: string | undefined, insns: readonly Instruction[], pc: number | undefined): string | undefined {
  void insns;
  void pc;
  if (!reason) return undefined;
  for (const e of EXPLAINED) if ((!e.targets || e.targets.includes(target)) && e.reason.test(reason) && (e.also?.(reason) ?? true)) return e.name;
  return undefined;
}
