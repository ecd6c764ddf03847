// What a script prints, the way bpftrace prints it: values decoded from event records and map bytes,
// maps at exit (`@name[key]: value`, hist/lhist bars, avg/stats), and the `-f json` lines. Pure:
// symbol and user-name lookups come in through a DecodeContext.
import { formatBpftraceBuckets, formatBpftraceLinear } from '../output/hist.js';
import { formatInet } from '../output/inet.js';
import { align8, sizeOf, type MapInfo, type SType } from './types.js';

export interface DecodeContext {
  /** kernel symbol of an address (bpftrace's ksym: name only) */
  ksym(addr: bigint): string;
  /** user symbol of an address in process pid */
  usym(addr: bigint, pid: number): string;
  /** frames of a stack id ('' entries are skipped), already symbolized */
  stack(id: number, user: boolean, pid: number, limit: number, mode: string): string[];
  /** user name of a uid */
  username(uid: number): string;
  /** text of strftime(fmt, ns) for format index `fmt` */
  strftime(fmt: number, ns: bigint): string;
  /** cgroup_path(id): the cgroup's path in each hierarchy (`unified:/system.slice/...`) */
  cgroupPath?(id: bigint, filter?: string): string;
}

/** A decoded value: integers stay exact, tuples are arrays, everything else is already text. */
export type Value = bigint | string | Value[] | StructValue;

/** A script struct's value as bpftrace prints it: `{ .x = 1, .s = ab }` (text), `{ "x": 1, "s": "ab" }` (json). */
export class StructValue {
  constructor(readonly text: string, readonly json: string) {}
  toString(): string {
    return this.text;
  }
}

const td = new TextDecoder('utf-8', { fatal: false });

export function cString(bytes: Uint8Array): string {
  const n = bytes.indexOf(0);
  return td.decode(n < 0 ? bytes : bytes.subarray(0, n));
}

export { formatInet };

/** strerror(3)'s text of an errno, as glibc words it (bpftrace prints it so). */
export function strerror(errno: number): string {
  return ERRNO_TEXT[Math.abs(errno)] ?? `Unknown error ${errno}`;
}

const ERRNO_TEXT: Record<number, string> = {
  0: 'Success', 1: 'Operation not permitted', 2: 'No such file or directory', 3: 'No such process', 4: 'Interrupted system call',
  5: 'Input/output error', 6: 'No such device or address', 7: 'Argument list too long', 8: 'Exec format error', 9: 'Bad file descriptor',
  10: 'No child processes', 11: 'Resource temporarily unavailable', 12: 'Cannot allocate memory', 13: 'Permission denied', 14: 'Bad address',
  15: 'Block device required', 16: 'Device or resource busy', 17: 'File exists', 18: 'Invalid cross-device link', 19: 'No such device',
  20: 'Not a directory', 21: 'Is a directory', 22: 'Invalid argument', 23: 'Too many open files in system', 24: 'Too many open files',
  25: 'Inappropriate ioctl for device', 26: 'Text file busy', 27: 'File too large', 28: 'No space left on device', 29: 'Illegal seek',
  30: 'Read-only file system', 31: 'Too many links', 32: 'Broken pipe', 33: 'Numerical argument out of domain', 34: 'Numerical result out of range',
  35: 'Resource deadlock avoided', 36: 'File name too long', 37: 'No locks available', 38: 'Function not implemented', 39: 'Directory not empty',
  40: 'Too many levels of symbolic links', 61: 'No data available', 62: 'Timer expired', 71: 'Protocol error', 75: 'Value too large for defined data type',
  88: 'Socket operation on non-socket', 95: 'Operation not supported', 97: 'Address family not supported by protocol', 98: 'Address already in use',
  99: 'Cannot assign requested address', 100: 'Network is down', 101: 'Network is unreachable', 103: 'Software caused connection abort',
  104: 'Connection reset by peer', 105: 'No buffer space available', 106: 'Transport endpoint is already connected', 107: 'Transport endpoint is not connected',
  110: 'Connection timed out', 111: 'Connection refused', 113: 'No route to host', 114: 'Operation already in progress', 115: 'Operation now in progress',
  122: 'Disk quota exceeded', 125: 'Operation canceled',
};

/** Decode a value of type t at `off`. */
export function decodeValue(t: SType, v: DataView, off: number, ctx: DecodeContext, stackIndent = 8): Value {
  const bytes = (o: number, n: number): Uint8Array => new Uint8Array(v.buffer, v.byteOffset + o, n);
  switch (t.k) {
    case 'int': return t.signed ? v.getBigInt64(off, true) : v.getBigUint64(off, true);
    case 'ptr': case 'record': return v.getBigUint64(off, true);
    case 'str': return cString(bytes(off, t.size));
    case 'inet': return formatInet(Number(v.getBigUint64(off, true)), bytes(off + 8, 16));
    case 'ksym': return ctx.ksym(v.getBigUint64(off, true));
    case 'usym': return ctx.usym(v.getBigUint64(off, true), 0);
    case 'strerror': return strerror(Number(v.getBigInt64(off, true)));
    case 'cgroup_path': return ctx.cgroupPath?.(v.getBigUint64(off, true), t.filter) ?? String(v.getBigUint64(off, true));
    case 'username': return ctx.username(Number(v.getBigUint64(off, true) & 0xffffffffn));
    case 'stack': {
      const id = v.getInt32(off, true);
      const pid = v.getUint32(off + 4, true);
      // no stack (bpf_get_stackid failed: e.g. a syscall tracepoint before 6.x has only user registers): bpftrace prints nothing
      if (id < 0) return '';
      const frames = ctx.stack(id, t.user, pid, t.limit, t.mode);
      const pad = ' '.repeat(stackIndent);
      return t.mode === 'perf' ? `\n${frames.map((f) => `\t${f}\n`).join('')}` : `\n${frames.map((f) => `${pad}${f}\n`).join('')}`;
    }
    case 'tuple': {
      let at = off;
      return t.elems.map((e) => {
        const x = decodeValue(e, v, at, ctx, stackIndent);
        at += align8(sizeOf(e));
        return x;
      });
    }
    case 'buf': {
      const n = Number(v.getBigUint64(off, true));
      let s = '';
      for (const b of bytes(off + 8, Math.min(n, t.size))) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
      return s;
    }
    case 'timestamp': return ctx.strftime(Number(v.getBigUint64(off, true)), v.getBigUint64(off + 8, true));
    case 'array': {
      const es = t.elem.k === 'int' ? t.elem.size : 8;
      const out: Value[] = [];
      for (let i = 0; i < t.len; i++) {
        const o = off + i * es;
        const signed = t.elem.k === 'int' && t.elem.signed;
        out.push(es === 1 ? BigInt(signed ? v.getInt8(o) : v.getUint8(o)) : es === 2 ? BigInt(signed ? v.getInt16(o, true) : v.getUint16(o, true)) : es === 4 ? BigInt(signed ? v.getInt32(o, true) : v.getUint32(o, true)) : v.getBigUint64(o, true));
      }
      return `[${out.join(',')}]`;
    }
    case 'struct': return decodeStruct(t, v, off);
    case 'none': return '';
  }
}

/** A struct's members from its C bytes: integers at their own width (bitfields shifted out), char arrays as strings, arrays as [a,b]. */
function decodeStruct(t: Extract<SType, { k: 'struct' }>, v: DataView, off: number): StructValue {
  const member = (mt: SType, at: number, bits?: { shift: number; width: number }): { text: string; json: string } => {
    if (mt.k === 'struct') return decodeStruct(mt, v, at);
    if (mt.k === 'str') {
      const s = cString(new Uint8Array(v.buffer, v.byteOffset + at, mt.size));
      return { text: s, json: JSON.stringify(s) };
    }
    if (mt.k === 'array') {
      const es = mt.elem.k === 'int' ? mt.elem.size : mt.elem.k === 'struct' ? mt.elem.size : mt.elem.k === 'str' ? mt.elem.size : 8;
      const items = Array.from({ length: mt.len }, (_, i) => member(mt.elem, at + i * es));
      return { text: `[${items.map((x) => x.text).join(',')}]`, json: `[${items.map((x) => x.json).join(',')}]` };
    }
    const size = mt.k === 'int' ? mt.size : 8;
    const signed = mt.k === 'int' && mt.signed && !bits;
    let n = size === 1 ? BigInt(signed ? v.getInt8(at) : v.getUint8(at)) : size === 2 ? BigInt(signed ? v.getInt16(at, true) : v.getUint16(at, true))
      : size === 4 ? BigInt(signed ? v.getInt32(at, true) : v.getUint32(at, true)) : signed ? v.getBigInt64(at, true) : v.getBigUint64(at, true);
    if (bits) n = (n >> BigInt(bits.shift)) & ((1n << BigInt(bits.width)) - 1n);
    return { text: String(n), json: String(n) };
  };
  const ms = t.fields.map((f) => ({ name: f.name, ...member(f.type, off + f.offset, f.bits) }));
  return new StructValue(`{ ${ms.map((m) => `.${m.name} = ${m.text}`).join(', ')} }`, `{ ${ms.map((m) => `${JSON.stringify(m.name)}: ${m.json}`).join(', ')} }`);
}

/** Text of a value as print() and map printing show it. */
export function valueText(x: Value): string {
  if (x instanceof StructValue) return x.text;
  if (Array.isArray(x)) return `(${x.map(valueText).join(', ')})`;
  return x.toString();
}

export function valueJson(x: Value): string {
  if (x instanceof StructValue) return x.json;
  if (Array.isArray(x)) return `[${x.map(valueJson).join(',')}]`;
  if (typeof x === 'bigint') return x.toString();
  return JSON.stringify(x);
}

/** What a map key slot holds after aggregation over CPUs. */
export type AggValue =
  | { kind: 'value'; value: Value }
  | { kind: 'scalar'; value: bigint } // count, sum, min, max
  | { kind: 'avg'; count: bigint; total: bigint }
  | { kind: 'stats'; count: bigint; total: bigint }
  | { kind: 'hist'; buckets: bigint[] };

export interface MapEntry {
  keys: Value[];
  value: AggValue;
}

const avgOf = (count: bigint, total: bigint): bigint => (count === 0n ? 0n : total / count);

function sortKey(v: AggValue): number {
  switch (v.kind) {
    case 'scalar': return Number(v.value);
    case 'avg': return Number(avgOf(v.count, v.total));
    case 'stats': return Number(avgOf(v.count, v.total));
    case 'hist': return Number(v.buckets.reduce((a, b) => a + b, 0n));
    case 'value': return typeof v.value === 'bigint' ? Number(v.value) : 0;
  }
}

/** Entries in bpftrace's order: ascending by value (stable otherwise). */
export function sortEntries(entries: MapEntry[]): MapEntry[] {
  // equal values: by key (bpftrace's order for them is the kernel's hash order; keys are steadier)
  return entries.map((e, i) => [e, i] as const).sort((a, b) => sortKey(a[0].value) - sortKey(b[0].value) || compareKeys(a[0].keys, b[0].keys) || a[1] - b[1]).map(([e]) => e);
}

function compareKeys(a: Value[], b: Value[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      if (x !== y) return x < y ? -1 : 1;
    } else if (typeof x === 'string' && typeof y === 'string') {
      if (x !== y) return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** print(@map, top, div): the `top` largest entries (0: all), their values divided by `div`. */
export function topDiv(entries: MapEntry[], top: number, div: number): MapEntry[] {
  const sorted = sortEntries(entries);
  const kept = top > 0 ? sorted.slice(Math.max(0, sorted.length - top)) : sorted;
  if (div <= 1) return kept;
  const d = BigInt(div);
  return kept.map((e): MapEntry => {
    const v = e.value;
    switch (v.kind) {
      case 'scalar': return { keys: e.keys, value: { kind: 'scalar', value: v.value / d } };
      case 'avg': case 'stats': return { keys: e.keys, value: { kind: v.kind, count: v.count, total: v.total / d } };
      case 'hist': return { keys: e.keys, value: { kind: 'hist', buckets: v.buckets.map((b) => b / d) } };
      case 'value': return { keys: e.keys, value: typeof v.value === 'bigint' ? { kind: 'value', value: v.value / d } : v };
    }
  });
}

function keyText(name: string, keys: Value[]): string {
  return `@${name}${keys.length ? `[${keys.map(valueText).join(', ')}]` : ''}`;
}

/** A map in bpftrace's text layout (as printed at exit and by print(@map)). */
export function formatMapText(info: MapInfo, entries: MapEntry[]): string {
  if (!entries.length) return '\n';
  let out = '';
  const agg = info.value.kind === 'agg' ? info.value.agg : undefined;
  for (const e of sortEntries(entries)) {
    const head = keyText(info.name, e.keys);
    const v = e.value;
    switch (v.kind) {
      case 'hist':
        if (agg === 'lhist') {
          const l = (info.value as { lhist: { min: number; max: number; step: number } }).lhist;
          out += formatBpftraceLinear(head, v.buckets, l.min, l.max, l.step);
        } else out += formatBpftraceBuckets(head, v.buckets);
        break;
      case 'avg': out += `${head}: ${avgOf(v.count, v.total)}\n`; break;
      case 'stats': out += `${head}: count ${v.count}, average ${avgOf(v.count, v.total)}, total ${v.total}\n`; break;
      case 'scalar': out += `${head}: ${v.value}\n`; break;
      case 'value': out += `${head}: ${valueText(v.value)}\n`; break;
    }
  }
  if (agg === 'avg' || agg === 'stats') out += '\n';
  return out;
}

function histJson(info: MapInfo, buckets: bigint[]): string {
  const rows: string[] = [];
  const l = info.value.kind === 'agg' ? info.value.lhist : undefined;
  buckets.forEach((c, i) => {
    let min: number | string;
    let max: number | string;
    if (l) {
      const n = Math.floor((l.max - l.min) / l.step);
      if (i === 0) [min, max] = ['null', l.min - 1];
      else if (i === n + 1) [min, max] = [l.max, 'null'];
      else [min, max] = [l.min + (i - 1) * l.step, l.min + i * l.step - 1];
    } else if (i === 0) [min, max] = ['null', -1];
    else if (i === 1) [min, max] = [0, 0];
    else if (i === 2) [min, max] = [1, 1];
    else [min, max] = [2 ** (i - 2), 2 ** (i - 1) - 1];
    rows.push(`{"min": ${min}, "max": ${max}, "count": ${c}}`);
  });
  // bpftrace trims empty buckets at both ends
  let a = 0;
  let b = buckets.length;
  while (a < b && buckets[a] === 0n) a++;
  while (b > a && buckets[b - 1] === 0n) b--;
  return `[${rows.slice(a, b).join(', ')}]`;
}

/** A map as one bpftrace JSON line. */
export function formatMapJson(info: MapInfo, entries: MapEntry[]): string {
  const agg = info.value.kind === 'agg' ? info.value.agg : undefined;
  const type = agg === 'hist' || agg === 'lhist' ? 'hist' : agg === 'avg' || agg === 'stats' ? 'stats' : 'map';
  const one = (v: AggValue): string => {
    switch (v.kind) {
      case 'hist': return histJson(info, v.buckets);
      case 'avg': return String(avgOf(v.count, v.total));
      case 'stats': return `{"count": ${v.count}, "average": ${avgOf(v.count, v.total)}, "total": ${v.total}}`;
      case 'scalar': return String(v.value);
      case 'value': return valueJson(v.value);
    }
  };
  let data: string;
  if (info.keys.length === 0) data = entries.length ? one(entries[0]!.value) : '{}';
  else data = `{${sortEntries(entries).map((e) => `${JSON.stringify(e.keys.map(valueText).join(','))}: ${one(e.value)}`).join(', ')}}`;
  return `{"type": "${type}", "data": {"@${info.name}": ${data}}}\n`;
}
