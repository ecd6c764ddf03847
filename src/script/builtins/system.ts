// Functions about the system rather than the value's own text: signal() to the current task,
// strerror() and cgroup_path() (turned into text by user space), pton() (an address literal as
// bytes), kptr()/uptr() (a value marked as a kernel or user address), strcontains() (a substring
// test run in the program).
import { parseIPv4, parseIPv6 } from '../../output/inet.js';
import { FP, R0, R1, R2, imm } from '../../isa/builder.js';
import { NONE, UINT64, sizeOf, typeName, type SType } from '../types.js';
import { checkArgCount, onlyStatement, type BuiltinFunction } from './context.js';

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11,
  SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21,
  SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

/** The bytes of an IPv4 or IPv6 address literal (inet_pton). */
export function ptonBytes(s: string): Uint8Array | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
  return s.includes(':') ? parseIPv6(s) : undefined;
}

export const FUNCTIONS_OF_SYSTEM: BuiltinFunction[] = [
  {
    name: 'signal', signature: 'signal(SIG | "SIGNAME" | number)', unsafe: true,
    check: (c, e, statement) => {
      onlyStatement(c, e, statement);
      checkArgCount(c, e, 1);
      const a = e.args[0]!;
      if (a.kind === 'str') {
        const n = SIGNALS[a.value] ?? SIGNALS[`SIG${a.value}`];
        if (n === undefined) throw c.err(`signal(): unknown signal '${a.value}'`, a.pos);
        c.setType(a, NONE);
        return NONE;
      }
      const t = c.expr(a);
      if (t.k !== 'int') throw c.err(`signal() expects a signal name or number (${typeName(t)} provided)`, a.pos);
      return NONE;
    },
    statement: (g, e) => {
      const a = e.args[0]!;
      if (a.kind === 'str') g.b.mov64(R1, imm(SIGNALS[a.value] ?? SIGNALS[`SIG${a.value}`]!));
      else {
        g.scalar(a);
        g.b.mov64(R1, R0);
      }
      g.b.call('send_signal');
    },
  },
  {
    name: 'strerror', signature: 'strerror(errno)',
    check: (c, e) => {
      checkArgCount(c, e, 1);
      const t = c.expr(e.args[0]!);
      if (t.k !== 'int') throw c.err(`strerror() expects an integer (${typeName(t)} provided)`, e.args[0]!.pos);
      return { k: 'strerror' };
    },
    scalar: (g, e) => g.scalar(e.args[0]!),
  },
  {
    name: 'cgroup_path', signature: 'cgroup_path(cgroupid[, filter])',
    check: (c, e) => {
      checkArgCount(c, e, 1, 2);
      const t = c.expr(e.args[0]!);
      if (t.k !== 'int') throw c.err(`cgroup_path() expects a cgroup id (${typeName(t)} provided)`, e.args[0]!.pos);
      let filter: string | undefined;
      if (e.args[1]) {
        if (e.args[1].kind !== 'str') throw c.err('cgroup_path(): the filter must be a string literal', e.args[1].pos);
        filter = e.args[1].value;
        c.setType(e.args[1], NONE);
      }
      return { k: 'cgroup_path', filter };
    },
    scalar: (g, e) => g.scalar(e.args[0]!),
  },
  ...(['kptr', 'uptr'] as const).map((name): BuiltinFunction => ({
    name, signature: `${name}(addr)`,
    check: (c, e) => {
      checkArgCount(c, e, 1);
      const t = c.expr(e.args[0]!);
      if (t.k !== 'int' && t.k !== 'ptr') throw c.err(`${name}() expects an integer or a pointer (${typeName(t)} provided)`, e.args[0]!.pos);
      return t.k === 'ptr' ? { ...t, user: name === 'uptr' } : t;
    },
    scalar: (g, e) => g.scalar(e.args[0]!),
  })),
  {
    name: 'pton', signature: 'pton("address")',
    check: (c, e) => {
      checkArgCount(c, e, 1);
      const a = e.args[0]!;
      if (a.kind !== 'str') throw c.err('pton() expects a string literal', a.pos);
      const b = ptonBytes(a.value);
      if (!b) throw c.err(`pton(): invalid address: ${a.value}`, a.pos);
      c.setType(a, NONE);
      return { k: 'array', elem: { k: 'int', size: 1, signed: false }, len: b.length };
    },
    into: (g, e, off, t) => {
      const bytes = ptonBytes((e.args[0] as { value: string }).value)!;
      g.zero(off, sizeOf(t));
      bytes.forEach((v, i) => void g.b.st('u8', FP, off + i, v));
    },
  },
  {
    name: 'strcontains', signature: 'strcontains(haystack, needle)',
    check: (c, e) => {
      checkArgCount(c, e, 2);
      const [h, n] = e.args.map((x) => c.expr(x)) as [SType, SType];
      if (h.k !== 'str' || n.k !== 'str') throw c.err(`strcontains() expects two strings (${typeName(h)}, ${typeName(n)} provided)`, e.pos);
      return UINT64;
    },
    // every start in the haystack against the needle, byte by byte (unrolled: both sizes are known)
    scalar: (g, e) => {
      const b = g.b;
      const m = g.mark();
      const [h, n] = e.args as [typeof e.args[0], typeof e.args[0]];
      const ht = g.type(h!) as Extract<SType, { k: 'str' }>;
      const nt = g.type(n!) as Extract<SType, { k: 'str' }>;
      const ph = g.alloc(sizeOf(ht), e.pos);
      g.into(h!, ph, ht);
      const pn = g.alloc(sizeOf(nt), e.pos);
      g.into(n!, pn, nt);
      const found = b.newLabel('found');
      const end = b.newLabel('sc_end');
      for (let i = 0; i < ht.size; i++) {
        const next = b.newLabel('sc_next');
        for (let j = 0; j < nt.size && i + j <= ht.size; j++) {
          b.ldx('u8', R2, FP, pn + j).jmp('==', R2, imm(0), found);
          if (i + j === ht.size) break;
          b.ldx('u8', R1, FP, ph + i + j).jmp('!=', R1, R2, next);
        }
        b.label(next);
        if (i + 1 < ht.size) b.ldx('u8', R1, FP, ph + i).jmp('==', R1, imm(0), end);
      }
      b.ja(end);
      b.label(found).mov64(R0, imm(1));
      const done = b.newLabel('sc_done');
      b.ja(done).label(end).mov64(R0, imm(0)).label(done);
      g.release(m);
    },
  },
];
