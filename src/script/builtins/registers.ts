// Registers of a kprobe or uprobe: reg("name") reads one from struct pt_regs (by the kernel's member
// name: ip, sp, ax, di, ...), sarg0.. read the stack arguments above the return address (x86-64:
// sp + 8 × (n + 1)), from user memory for uprobes, kernel memory for kprobes.
import { FP, R0, R1, R2, R3, R6, imm } from '../../isa/builder.js';
import type { Pos } from '../ast.js';
import { NONE, UINT64 } from '../types.js';
import { checkArgCount, onlyStatement, type BuiltinFunction, type BuiltinVariable, type CheckContext } from './context.js';

function needsRegisters(c: CheckContext, what: string, pos: Pos): void {
  const t = c.unit.spec.type;
  if (t !== 'kprobe' && t !== 'kretprobe' && t !== 'uprobe' && t !== 'uretprobe' && t !== 'usdt') throw c.err(`The ${what} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`, pos);
}

export const REGISTER_FUNCTIONS: BuiltinFunction[] = [
  {
    // the probed kernel function returns rc without running (functions on the kernel's error
    // injection list only: the kernel refuses the program elsewhere)
    name: 'override', signature: 'override(rc)', unsafe: true,
    check: (c, e, statement) => {
      onlyStatement(c, e, statement);
      checkArgCount(c, e, 1);
      if (c.unit.spec.type !== 'kprobe') throw c.err('override can only be used with kprobes.', e.pos);
      const t = c.expr(e.args[0]!);
      if (t.k !== 'int') throw c.err(`override() expects an integer (${t.k} provided)`, e.args[0]!.pos);
      return NONE;
    },
    statement: (g, e) => {
      g.scalar(e.args[0]!);
      g.b.mov64(R2, R0).mov64(R1, R6).call('override_return');
    },
  },
  {
    name: 'uaddr', signature: 'uaddr("symbol")',
    check: (c, e) => {
      checkArgCount(c, e, 1);
      const a = e.args[0]!;
      if (a.kind !== 'str') throw c.err('uaddr() expects a string literal', a.pos);
      const s = c.unit.spec;
      if (s.type !== 'uprobe' && s.type !== 'uretprobe') throw c.err('uaddr can only be used with uprobes', e.pos);
      let addr: bigint | undefined;
      try {
        addr = c.env.userSymbol?.(s.path, a.value);
      } catch {
        addr = undefined;
      }
      if (addr === undefined) throw c.err(`Could not resolve symbol: ${s.path}:${a.value}`, a.pos);
      // the address travels on the call node to the code generator
      (e as { addr?: bigint }).addr = addr;
      c.setType(a, NONE);
      return { k: 'ptr', to: { k: 'int', size: 8, signed: true }, user: true };
    },
    scalar: (g, e) => void g.b.movImm(R0, (e as { addr?: bigint }).addr!),
  },
  {
    name: 'reg', signature: 'reg("name")',
    check: (c, e) => {
      checkArgCount(c, e, 1);
      const a = e.args[0]!;
      if (a.kind !== 'str') throw c.err('reg() expects a string literal', a.pos);
      const t = c.unit.spec.type;
      if (t !== 'kprobe' && t !== 'kretprobe' && t !== 'uprobe' && t !== 'uretprobe' && t !== 'usdt') throw c.err(`reg can not be used with "${t}" probes`, e.pos);
      const regs = c.regs(e.pos);
      if (regs.reg(a.value) === undefined) throw c.err(`'${a.value}' is not a valid register on this architecture (${regs.arch === 'x64' ? 'x86_64' : regs.arch === 'arm64' ? 'aarch64' : regs.arch})`, e.pos);
      c.setType(a, NONE);
      return UINT64;
    },
    scalar: (g, e) => void g.b.ldx('u64', R0, R6, g.regs.reg((e.args[0] as { value: string }).value)!),
  },
];

export const STACK_ARGUMENTS: BuiltinVariable[] = Array.from({ length: 10 }, (_, i): BuiltinVariable => ({
  name: `sarg${i}`, doc: `stack argument ${i}`,
  check: (c, pos) => {
    needsRegisters(c, `sarg${i}`, pos);
    if (c.regs(pos).arch !== 'x64') throw c.err(`sarg${i}: stack arguments are known on x86-64 only`, pos);
    return UINT64;
  },
  scalar: (g, pos) => {
    const b = g.b;
    const m = g.mark();
    const tmp = g.alloc(8, pos);
    const user = g.u.spec.type === 'uprobe' || g.u.spec.type === 'uretprobe' || g.u.spec.type === 'usdt';
    b.st('u64', FP, tmp, 0).ldx('u64', R3, R6, g.regs.sp).add64(R3, imm(8 * (i + 1)));
    b.mov64(R1, FP).add64(R1, imm(tmp)).mov64(R2, imm(8)).call(user ? 'probe_read_user' : 'probe_read_kernel');
    b.ldx('u64', R0, FP, tmp);
    g.release(m);
  },
}));
