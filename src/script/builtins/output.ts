// The functions that ask user space to do something: print a line, a value or a map, run a command,
// cat a file, print the time, clear a map, exit. Each becomes an event record (format.ts has the
// format strings); delete() and join() do their work in the program.
import { FP, R0, R1, R2, R3, R4, R7, imm } from '../../isa/builder.js';
import type { CallExpr } from '../ast.js';
import type { FormatEntry } from '../checker/checker.js';
import { FormatError, parseFormat, type ParsedFormat } from '../format.js';
import { EVENTS_MAP, JOIN_ARGS, JOIN_LEN, JOIN_RECORD, SCRATCH_MAP, mapName } from '../maps.js';
import { NONE, typeName, type SType } from '../types.js';
import { checkArgCount, onlyStatement, type BuiltinFunction, type CheckContext, type GenContext } from './context.js';

/** The event format index the checker gave this call. */
const formatId = (g: GenContext, e: CallExpr): number => g.c.formatIds.get(g.u)!.get(e)!;

/** printf-like: a literal format, then arguments that fit its conversions. */
function formatted(c: CheckContext, e: CallExpr, kind: FormatEntry['kind']): SType {
  const a = e.args;
  if (a.length === 0 || a[0]!.kind !== 'str') throw c.err(`${e.name}() expects a string literal as the first argument`, a[0]?.pos ?? e.pos);
  const fmt = a[0].value;
  let parsed: ParsedFormat;
  try {
    parsed = parseFormat(fmt);
  } catch (x) {
    if (x instanceof FormatError) throw c.err(`${e.name}: ${x.message}`, a[0].pos);
    throw x;
  }
  const rest = a.slice(1).map((x) => c.expr(x));
  if (parsed.convs.length !== rest.length) {
    throw c.err(`${e.name}: Expected ${parsed.convs.length} argument${parsed.convs.length === 1 ? '' : 's'} for the format string, ${rest.length} provided`, e.pos);
  }
  rest.forEach((t, i) => {
    const conv = parsed.convs[i]!;
    if (t.k === 'none' || t.k === 'record') throw c.err(`${e.name}: argument ${i + 1} has no printable value`, a[i + 1]!.pos);
    if ('diouxXc'.includes(conv.conv) && t.k !== 'int' && t.k !== 'ptr' && t.k !== 'ksym' && t.k !== 'usym') {
      throw c.err(`${e.name}: %${conv.conv} specifier expects a value of type integer (${typeName(t)} supplied)`, a[i + 1]!.pos);
    }
  });
  c.setType(a[0], { k: 'str', size: fmt.length + 1 });
  c.addFormat(e, { kind, fmt, parsed, args: rest });
  return NONE;
}

/** A statement sending the format and its arguments after the format string. */
const withFormat = (name: string, signature: string): BuiltinFunction => ({
  name, signature,
  check: (c, e, statement) => {
    onlyStatement(c, e, statement);
    return formatted(c, e, name as FormatEntry['kind']);
  },
  statement: (g, e) => g.event(formatId(g, e), e.args.slice(1), e.pos),
});

/** A statement on a whole map (clear, zero): done by user space. */
const onWholeMap = (name: 'clear' | 'zero'): BuiltinFunction => ({
  name, signature: `${name}(@map)`,
  check: (c, e, statement) => {
    onlyStatement(c, e, statement);
    checkArgCount(c, e, 1);
    const m = e.args[0]!;
    if (m.kind !== 'map' || m.keys.length) throw c.err(`${e.name}() expects a map with no keys`, m.pos);
    if (!c.maps.has(m.name)) throw c.err(`Undefined map: @${m.name}`, m.pos);
    c.addFormat(e, { kind: name, fmt: '', args: [], map: m.name });
    return NONE;
  },
  statement: (g, e) => g.event(formatId(g, e), [], e.pos),
});

export const FUNCTIONS_OF_OUTPUT: BuiltinFunction[] = [
  withFormat('printf', 'printf(fmt, ...)'),
  withFormat('cat', 'cat(fmt, ...)'),
  { ...withFormat('system', 'system(fmt, ...)'), unsafe: true },
  {
    name: 'time', signature: 'time([fmt])',
    check: (c, e, statement) => {
      onlyStatement(c, e, statement);
      checkArgCount(c, e, 0, 1);
      const f = e.args[0];
      if (f && f.kind !== 'str') throw c.err('time() expects a string literal', f.pos);
      c.addFormat(e, { kind: 'time', fmt: f ? (f as { value: string }).value : '%H:%M:%S\n', args: [] });
      return NONE;
    },
    statement: (g, e) => g.event(formatId(g, e), [], e.pos),
  },
  {
    name: 'exit', signature: 'exit()',
    check: (c, e, statement) => {
      onlyStatement(c, e, statement);
      checkArgCount(c, e, 0);
      c.addFormat(e, { kind: 'exit', fmt: '', args: [] });
      return NONE;
    },
    // as bpftrace: exit() ends the action too (`@++; exit(); @++` counts 1)
    statement: (g, e) => {
      g.event(formatId(g, e), [], e.pos);
      g.leave();
    },
  },
  {
    name: 'print', signature: 'print(@map | value)',
    check: (c, e, statement) => {
      onlyStatement(c, e, statement);
      checkArgCount(c, e, 1, 3);
      const m = e.args[0]!;
      if (m.kind === 'map' && m.keys.length === 0) {
        if (!c.maps.has(m.name)) throw c.err(`Undefined map: @${m.name}`, m.pos);
        // print(@map, top, div): both integer literals (positional parameters are literals by now)
        const [top, div] = e.args.slice(1).map((a, i) => {
          const n = a.kind === 'int' ? a.value : a.kind === 'positional' ? BigInt(c.env.params[a.n - 1] ?? 'x') : undefined;
          if (n === undefined || n < 0n) throw c.err(`print(): the ${i ? 'divisor' : 'top'} must be a non-negative integer literal`, a.pos);
          c.setType(a, NONE);
          return Number(n);
        });
        c.addFormat(e, { kind: 'print', fmt: '', args: [], map: m.name, top, div });
        return NONE;
      }
      if (e.args.length > 1) throw c.err('print(): only a map takes the top and divisor arguments', e.args[1]!.pos);
      const t = c.expr(m);
      if (t.k === 'none') throw c.err('print() of this expression has no value', m.pos);
      // a struct the script defines, reached through a pointer: its bytes are sent and shown member by member
      const st = t.k === 'record' && t.script && ['field', 'index', 'unary'].includes(m.kind) ? c.scriptTypes.structValue(t.name) : undefined;
      if (st) c.setType(m, st);
      else if (t.k === 'record') throw c.err(`print() of a struct value (${t.name}) is not supported yet: print its members`, m.pos);
      c.addFormat(e, { kind: 'print', fmt: '', args: [st ?? t] });
      return NONE;
    },
    // print(@map) is done by user space; print(value) sends the value
    statement: (g, e) => {
      const id = formatId(g, e);
      g.event(id, g.c.formats[id]!.map !== undefined ? [] : [e.args[0]!], e.pos);
    },
  },
  onWholeMap('clear'),
  onWholeMap('zero'),
  {
    name: 'delete', signature: 'delete(@map[key])',
    check: (c, e, statement) => {
      onlyStatement(c, e, statement);
      checkArgCount(c, e, 1);
      const m = e.args[0]!;
      if (m.kind !== 'map') throw c.err('delete() expects a map element', m.pos);
      const info = c.maps.get(m.name);
      if (!info) throw c.err(`Undefined map: @${m.name}`, m.pos);
      c.mapInfo(m, c.mapKeys(m), info.value);
      // bpftrace zeroes a keyless aggregation (`@c: 0` prints at exit): user space does, as zero()
      if (m.keys.length === 0 && info.value.kind === 'agg') c.addFormat(e, { kind: 'zero', fmt: '', args: [], map: m.name });
      return NONE;
    },
    statement: (g, e) => {
      const id = g.c.formatIds.get(g.u)?.get(e);
      if (id !== undefined) return g.event(id, [], e.pos);
      const m = e.args[0] as Extract<CallExpr['args'][number], { kind: 'map' }>;
      const key = g.mapKey(m);
      g.b.ldMap(R1, mapName(m.name)).mov64(R2, FP).add64(R2, imm(key)).call('map_delete_elem');
    },
  },
  {
    name: 'join', signature: 'join(argv[, sep])',
    check: (c, e, statement) => {
      onlyStatement(c, e, statement);
      checkArgCount(c, e, 1, 2);
      const a = e.args;
      const t = c.expr(a[0]!);
      if (t.k !== 'ptr' && t.k !== 'int') throw c.err('join() expects a pointer to an array of strings', a[0]!.pos);
      const sep = a[1] ? (a[1].kind === 'str' ? a[1].value : undefined) : ' ';
      if (sep === undefined) throw c.err('join() separator must be a string literal', a[1]!.pos);
      c.addFormat(e, { kind: 'join', fmt: sep, args: [] });
      return NONE;
    },
    statement: (g, e) => join(g, formatId(g, e), e),
  },
];

/** join(argv): up to JOIN_ARGS strings read from a pointer array, built in the per-CPU scratch map. */
function join(g: GenContext, id: number, e: CallExpr): void {
  const b = g.b;
  const ptrs = g.alloc(8, e.pos);
  const tmp = g.alloc(8, e.pos);
  const key = g.alloc(8, e.pos);
  g.scalar(e.args[0]!);
  b.stx('u64', FP, R0, ptrs).st('u64', FP, key, 0);
  b.ldMap(R1, SCRATCH_MAP).mov64(R2, FP).add64(R2, imm(key)).call('map_lookup_elem');
  const end = b.newLabel('join_end');
  const send = b.newLabel('join_send');
  b.jmp('==', R0, imm(0), end).mov64(R7, R0).mov64(R1, imm(id)).stx('u64', R7, R1, 0);
  for (let i = 0; i < JOIN_ARGS; i++) {
    const at = 8 + i * JOIN_LEN;
    const stop = b.newLabel('join_stop');
    const next = b.newLabel('join_next');
    b.st('u64', FP, tmp, 0).mov64(R1, FP).add64(R1, imm(tmp)).mov64(R2, imm(8)).ldx('u64', R3, FP, ptrs).add64(R3, imm(i * 8)).call('probe_read');
    b.ldx('u64', R3, FP, tmp).jmp('==', R3, imm(0), stop);
    b.mov64(R1, R7).add64(R1, imm(at)).mov64(R2, imm(JOIN_LEN)).call('probe_read_str').ja(next);
    b.label(stop).st('u8', R7, at, 0).ja(send);
    b.label(next);
  }
  b.label(send).ldMap(R1, EVENTS_MAP).mov64(R2, R7).mov64(R3, imm(JOIN_RECORD)).mov64(R4, imm(0)).call('ringbuf_output');
  b.label(end);
}
