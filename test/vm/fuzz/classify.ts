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

/** The name of the explained class of a kernel rejection, or undefined when it is unexplained.
 *  `reached` marks the instructions tsbpf's exploration reached. */
export function classify(target: Target, reason: string | undefined, insns: readonly Instruction[], pc: number | undefined, reached: Uint8Array | undefined): string | undefined {
  void insns;
  // The kernel gave up at an instruction tsbpf proved unreachable: its exploration took a branch
  // tsbpf knew was never taken (tsbpf's bounds are tighter there). Dead code cannot be unsafe, and
  // the fuzzer checks the claim: a run that executes an instruction tsbpf never reached is a finding.
  if (pc !== undefined && reached && !reached[pc]) return 'failing instruction unreachable for tsbpf';
  if (!reason) return undefined;
  for (const e of EXPLAINED) if ((!e.targets || e.targets.includes(target)) && e.reason.test(reason) && (e.also?.(reason) ?? true)) return e.name;
  return undefined;
}
