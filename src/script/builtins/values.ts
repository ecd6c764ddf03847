// Functions that give a value to print a particular way: an address as text (ntop), a symbol (ksym,
// usym), a stack, a time (strftime), or a number changed (bswap) or looked up (kaddr).
import { FP, R0, R1, R2, R3, imm } from '../../isa/builder.js';
import type { CallExpr } from '../ast.js';
import { NONE, UINT64, align8, sizeOf, typeName, type SType } from '../types.js';
import { checkArgCount, type BuiltinFunction, type CheckContext } from './context.js';

/** kstack()/ustack() with a mode (bpftrace, perf, raw) and a frame limit, in either order. */
function stackFunction(name: 'kstack' | 'ustack'): BuiltinFunction {
  return {
    name, signature: `${name}([mode][, limit])`,
    check: (c, e) => {
      checkArgCount(c, e, 0, 2);
      let mode: 'bpftrace' | 'perf' | 'raw' = 'bpftrace';
      let limit = 127;
      for (const x of e.args) {
        if (x.kind === 'ident' && (x.name === 'perf' || x.name === 'bpftrace' || x.name === 'raw')) mode = x.name;
        else if (x.kind === 'int') limit = Number(x.value);
        else throw c.err(`${e.name}(): expected a mode (bpftrace, perf, raw) or a frame limit`, x.pos);
        c.setType(x, NONE);
      }
      if (limit < 1 || limit > 127) throw c.err(`${e.name}(): the frame limit must be between 1 and 127`, e.pos);
      return { k: 'stack', user: name === 'ustack', limit, mode };
    },
    scalar: (g) => g.stack(name === 'ustack'),
  };
}

/** ksym(addr), usym(addr): the address, printed as a symbol. */
function symbolFunction(name: 'ksym' | 'usym'): BuiltinFunction {
  return {
    name, signature: `${name}(addr)`,
    check: (c, e) => {
      checkArgCount(c, e, 1);
      const t = c.expr(e.args[0]!);
      if (t.k !== 'int' && t.k !== 'ptr') throw c.err(`${e.name}() expects an integer`, e.args[0]!.pos);
      return { k: name };
    },
    scalar: (g, e) => g.scalar(e.args[0]!),
  };
}

/** A string literal argument that is no value of its own (kaddr's name, strftime's format). */
function literalArg(c: CheckContext, e: CallExpr, what: string): string {
  const a = e.args[0]!;
  if (a.kind !== 'str') throw c.err(`${e.name}() expects a string literal${what}`, a.pos);
  c.setType(a, NONE);
  return a.value;
}

export const FUNCTIONS_OF_VALUES: BuiltinFunction[] = [
  {
    name: 'ntop', signature: 'ntop([af, ]addr)',
    check: (c, e) => {
      checkArgCount(c, e, 1, 2);
      const ts = e.args.map((x) => c.expr(x));
      const addr = ts[ts.length - 1]!;
      if (ts.length === 2 && ts[0]!.k !== 'int') throw c.err('ntop(): the address family must be an integer', e.args[0]!.pos);
      if (addr.k === 'int') return { k: 'inet' };
      if (addr.k === 'array' && addr.elem.k === 'int' && (addr.len * addr.elem.size === 4 || addr.len * addr.elem.size === 16)) return { k: 'inet' };
      throw c.err(`ntop() expects an integer or an array of 4 or 16 bytes (${typeName(addr)} provided)`, e.args[e.args.length - 1]!.pos);
    },
    // [u64 family][16 address bytes]
    into: (g, e, off, t) => {
      const b = g.b;
      const a = e.args[e.args.length - 1]!;
      const at = g.type(a);
      g.zero(off, align8(sizeOf(t)));
      const v6 = at.k === 'array' && at.len * (at.elem as { size: number }).size === 16;
      if (e.args.length === 2) {
        g.scalar(e.args[0]!);
        b.stx('u64', FP, R0, off);
      } else b.st('u64', FP, off, v6 ? 10 : 2);
      if (at.k === 'int') {
        g.scalar(a);
        b.stx('u32', FP, R0, off + 8);
        return;
      }
      const field = g.u.argFields.get(a);
      if (field) return g.ctxCopy(field.offset, off + 8, v6 ? 16 : 4);
      if (a.kind === 'call' || a.kind === 'var') {
        // bytes the program made (pton(), a variable holding them): copied from the stack
        const m = g.mark();
        const tmp = g.alloc(sizeOf(at), e.pos);
        g.into(a, tmp, at);
        for (let i = 0; i < (v6 ? 16 : 4); i++) b.ldx('u8', R1, FP, tmp + i).stx('u8', FP, R1, off + 8 + i);
        return g.release(m);
      }
      g.address(a);
      b.mov64(R3, R0).mov64(R1, FP).add64(R1, imm(off + 8)).mov64(R2, imm(v6 ? 16 : 4)).call('probe_read');
    },
  },
  {
    name: 'strftime', signature: 'strftime(fmt, nsecs)',
    check: (c, e) => {
      checkArgCount(c, e, 2);
      const fmt = literalArg(c, e, ' format');
      const t = c.expr(e.args[1]!);
      if (t.k !== 'int') throw c.err('strftime() expects an integer timestamp', e.args[1]!.pos);
      return { k: 'timestamp', fmt: c.addFormat(e, { kind: 'strftime', fmt, args: [] }) };
    },
    // [u64 format index][u64 ns]
    into: (g, e, off) => {
      const ts = g.type(e) as Extract<SType, { k: 'timestamp' }>;
      g.b.mov64(R0, imm(ts.fmt)).stx('u64', FP, R0, off);
      g.scalar(e.args[1]!);
      g.b.stx('u64', FP, R0, off + 8);
    },
  },
  {
    name: 'bswap', signature: 'bswap(n)',
    check: (c, e) => {
      checkArgCount(c, e, 1);
      const t = c.expr(e.args[0]!);
      if (t.k !== 'int') throw c.err(`bswap() expects an integer (${typeName(t)} provided)`, e.args[0]!.pos);
      return t;
    },
    scalar: (g, e) => {
      const t = g.type(e) as Extract<SType, { k: 'int' }>;
      g.scalar(e.args[0]!);
      if (t.size > 1) g.b.be(R0, (t.size * 8) as 16 | 32 | 64);
    },
  },
  {
    name: 'kaddr', signature: 'kaddr("symbol")',
    check: (c, e) => {
      checkArgCount(c, e, 1);
      literalArg(c, e, '');
      return { k: 'ptr', to: UINT64 };
    },
    scalar: (g, e) => {
      const name = (e.args[0] as { value: string }).value;
      const addr = g.o.kaddr?.(name);
      if (addr === undefined) throw g.err(`Failed to resolve kernel symbol: ${name}`, e.pos);
      g.b.movImm(R0, addr);
    },
  },
  symbolFunction('ksym'),
  symbolFunction('usym'),
  stackFunction('kstack'),
  stackFunction('ustack'),
];
