// The builtin variables: what the current task, the clock and the probe give (pid, comm, nsecs,
// arg0, retval, ...). A probe-specific one is an error in probes that do not have it.
import { BtfKind } from '../../btf/types.js';
import { FP, R0, R1, R2, R6, imm } from '../../isa/builder.js';
import type { Pos } from '../ast.js';
import { withExitStatus } from '../error.js';
import type { Unit } from '../checker/checker.js';
import { probeFunc } from '../probes.js';
import { UsdtError, usdtArgumentCode, usdtArguments } from '../usdt.js';
import { COMM, UINT64, align8, sizeOf, typeName, type SType } from '../types.js';
import type { BuiltinVariable, CheckContext, GenContext } from './context.js';

const U64: SType = { k: 'int', size: 8, signed: false };

/** A variable whose value one helper call gives, maybe shifted or cut to 32 bits. */
function fromHelper(name: string, doc: string, helper: Parameters<GenContext['b']['call']>[0], part: 'all' | 'low' | 'high' = 'all', type: SType = U64): BuiltinVariable {
  return {
    name, doc,
    check: () => type,
    scalar: (g) => {
      g.b.call(helper);
      if (part === 'low') g.b.mov32(R0, R0);
      else if (part === 'high') g.b.rsh64(R0, imm(32));
    },
  };
}

/** A string known when compiling (probe, func): written as a literal. */
function literal(name: string, doc: string, text: (u: Unit, err: CheckContext['err'], pos: Pos) => string): BuiltinVariable {
  return {
    name, doc,
    check: (c, pos) => ({ k: 'str', size: text(c.unit, c.err.bind(c), pos).length + 1 }),
    into: (g, off, t) => g.literal(text(g.u, g.err.bind(g), g.u.probe.pos), off, align8(sizeOf(t))),
  };
}

/** arg0..argN: registers of a kprobe or uprobe, the u64 arguments of a raw tracepoint. */
function arg(i: number): BuiltinVariable {
  const name = `arg${i}`;
  return {
    name, doc: `argument ${i} of the probed function`,
    check: (c, pos) => {
      const t = c.unit.spec.type;
      if (t === 'usdt') {
        const u = usdtOf(c, pos);
        if (i >= u.args.length) {
          // bpftrace's words, and its status: 254 (it finds this when generating code)
          const s = c.unit.spec as Extract<Unit['spec'], { type: 'usdt' }>;
          throw withExitStatus(c.err(`couldn't get argument ${i} for ${s.path}:${u.note.provider}:${u.note.name}`, pos), 254);
        }
        return { k: 'int', size: 8, signed: u.args[i]!.signed };
      }
      if (t !== 'kprobe' && t !== 'uprobe' && t !== 'rawtracepoint') throw c.err(`The ${name} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`, pos);
      const regs = c.regs(pos);
      if (i >= regs.args.length) throw c.err(`${name} is beyond the ${regs.args.length} register arguments of ${regs.arch}`, pos);
      return UINT64;
    },
    scalar: (g, pos) => {
      if (g.u.usdt) return usdtArgumentCode(g, g.u.usdt.args[i]!, pos);
      g.b.ldx('u64', R0, R6, g.u.spec.type === 'rawtracepoint' ? i * 8 : g.regs.args[i]!);
    },
  };
}

/** The unit's USDT note and its arguments, read once (the note from the file, the registers from the arch). */
function usdtOf(c: CheckContext, pos: Pos): NonNullable<Unit['usdt']> {
  if (c.unit.usdt) return c.unit.usdt;
  const s = c.unit.spec as Extract<Unit['spec'], { type: 'usdt' }>;
  const note = c.env.usdtProbes?.(s.path).find((n) => n.name === s.name && (!s.provider || n.provider === s.provider));
  if (!note) throw c.err(`usdt probe not found: ${s.path}:${s.provider ?? ''}:${s.name}`, pos);
  try {
    return (c.unit.usdt = { note, args: usdtArguments(note.args, c.regs(pos).arch) });
  } catch (e) {
    if (e instanceof UsdtError) throw c.err(e.message, pos);
    throw e;
  }
}

export const VARIABLES: BuiltinVariable[] = [
  fromHelper('pid', 'process id (tgid)', 'get_current_pid_tgid', 'high'),
  fromHelper('tid', 'thread id', 'get_current_pid_tgid', 'low'),
  fromHelper('uid', 'user id', 'get_current_uid_gid', 'low'),
  fromHelper('gid', 'group id', 'get_current_uid_gid', 'high'),
  fromHelper('cpu', 'the CPU the probe fires on', 'get_smp_processor_id'),
  fromHelper('rand', 'a random number', 'get_prandom_u32'),
  fromHelper('numaid', 'the NUMA node the probe fires on', 'get_numa_node_id'),
  fromHelper('nsecs', 'CLOCK_MONOTONIC nanoseconds', 'ktime_get_ns', 'all', UINT64),
  fromHelper('cgroup', 'cgroup v2 id of the task', 'get_current_cgroup_id', 'all', UINT64),
  fromHelper('username', 'user name of the task', 'get_current_uid_gid', 'low', { k: 'username' }),
  {
    name: 'elapsed', doc: 'nanoseconds since the script started',
    check: () => UINT64,
    scalar: (g) => void g.b.call('ktime_get_ns').movImm(R1, g.o.startNs).sub64(R0, R1),
  },
  {
    name: 'comm', doc: 'the task\'s command name',
    check: () => COMM,
    into: (g, off, t) => {
      g.zero(off, align8(sizeOf(t)));
      g.b.mov64(R1, FP).add64(R1, imm(off)).mov64(R2, imm(Math.min(16, sizeOf(t)))).call('get_current_comm');
    },
  },
  literal('probe', 'the probe\'s full name', (u) => u.name),
  literal('func', 'the probed function', (u, err, pos) => {
    const f = probeFunc(u.spec);
    if (f === undefined) throw err(`The func builtin can not be used with '${u.spec.type}' probes`, pos);
    return f;
  }),
  {
    name: 'kstack', doc: 'the kernel stack',
    check: () => ({ k: 'stack', user: false, limit: 127, mode: 'bpftrace' }),
    scalar: (g) => g.stack(false),
  },
  {
    name: 'ustack', doc: 'the user stack',
    check: () => ({ k: 'stack', user: true, limit: 127, mode: 'bpftrace' }),
    scalar: (g) => g.stack(true),
  },
  {
    name: 'curtask', doc: 'the current task_struct',
    check: (c, pos) => {
      const task = c.btf(pos).findByName('task_struct', BtfKind.STRUCT);
      if (!task) throw c.err('struct task_struct not found in BTF', pos);
      return { k: 'ptr', btfId: task.id };
    },
    scalar: (g) => void g.b.call('get_current_task'),
  },
  {
    name: 'ctx', doc: 'the program\'s context pointer',
    check: () => UINT64,
    scalar: (g) => void g.b.mov64(R0, R6),
  },
  {
    name: 'cpid', doc: 'pid of the command started with -c',
    check: () => UINT64,
    scalar: (g, pos) => {
      if (g.o.cpid === undefined) throw g.err('cpid is only available with -c CMD', pos);
      g.b.movImm(R0, g.o.cpid);
    },
  },
  {
    name: 'retval', doc: 'the return value (kretprobe, uretprobe, kretfunc)',
    check: (c, pos) => {
      const spec = c.unit.spec;
      if (spec.type === 'kretfunc') {
        const r = c.unit.kfunc!.returnType;
        if (r === 0) throw c.err(`${probeFunc(spec)} returns void: there is no retval`, pos);
        const rt = c.fromBtf(r, pos);
        if (rt.k !== 'int' && rt.k !== 'ptr') throw c.err(`${probeFunc(spec)} returns ${typeName(rt)}: only integer and pointer return values can be read`, pos);
        return rt;
      }
      if (spec.type !== 'kretprobe' && spec.type !== 'uretprobe') throw c.err(`The retval builtin can only be used with 'kretprobe', 'uretprobe' and 'kretfunc' probes`, pos);
      return UINT64;
    },
    scalar: (g, _pos, t) => {
      const kf = g.u.kfunc;
      if (!kf) return void g.b.ldx('u64', R0, R6, g.regs.ret);
      // fexit: the return value follows the arguments in the context
      g.b.ldx('u64', R0, R6, kf.params.length * 8);
      if (t.k === 'int' && t.size < 8) g.narrow(t.size, t.signed);
    },
  },
  {
    name: 'args', doc: 'the tracepoint\'s, kfunc\'s or uprobe\'s arguments (args->name; a uprobe\'s from its binary\'s DWARF)',
    check: (c, pos) => {
      const t = c.unit.spec.type;
      if (t !== 'tracepoint' && t !== 'kfunc' && t !== 'kretfunc' && t !== 'uprobe') throw c.err(`The args builtin can only be used with tracepoint/kfunc/uprobe probes (${t} used here)`, pos);
      return { k: 'none' };
    },
  },
  ...Array.from({ length: 10 }, (_, i) => arg(i)),
];
