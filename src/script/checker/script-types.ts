// Types a script defines itself, in C, before its probes (as bpftrace hands them to clang):
// `struct Foo { int a; char b[10]; }`, unions, `enum E { A = 1, B }`. Laid out as C lays them out
// (each member at its alignment, the size rounded up to the largest), so that sizeof() answers what
// bpftrace answers; enum values become named constants.
import { INT_NAMES } from './btf-types.js';
import type { SType } from '../types.js';

export type CType =
  | { k: 'int'; size: number; signed: boolean }
  /** `to`: what it points to, when the script can follow it (a struct/union by name, an integer) */
  | { k: 'ptr'; to?: string | CType }
  | { k: 'array'; elem: CType; len: number }
  | { k: 'record'; name: string }
  /** a kernel type by BTF (`struct path`): read through its script type, as a cast to it would be */
  | { k: 'kernel'; size: number; align: number; type: SType };

export interface CRecord {
  name: string;
  union: boolean;
  size: number;
  align: number;
  fields: { name: string; offset: number; type: CType; bits?: { shift: number; width: number } }[];
}

export class CDeclError extends Error {}

export class ScriptTypes {
  readonly records = new Map<string, CRecord>();
  readonly enums = new Map<string, bigint>();

  /** `kernel`: a type the script does not define, from the kernel's BTF (clang takes it from the headers) */
  constructor(private readonly kernel?: (base: string) => { size: number; align: number; type: SType } | undefined) {}

  /** Read one definition: `struct NAME { ... }`, `union NAME { ... }` or `enum NAME { ... }`. */
  define(text: string): void {
    // comments inside the body (`// [...]` in dcsnoop.bt) are clang's to drop
    const bare = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
    const m = /^\s*(struct|union|enum)\s+(\w+)\s*\{([\s\S]*)\}\s*;?\s*$/.exec(bare);
    if (!m) throw new CDeclError(`cannot read this definition: ${text.slice(0, 60)}`);
    const [, kind, name, body] = m as unknown as [string, string, string, string];
    if (kind === 'enum') return this.defineEnum(body);
    this.records.set(`${kind} ${name}`, this.layout(`${kind} ${name}`, kind === 'union', body));
  }

  private defineEnum(body: string): void {
    let next = 0n;
    for (const item of body.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^(\w+)\s*(?:=\s*(.+))?$/.exec(item);
      if (!m) throw new CDeclError(`bad enumerator: ${item}`);
      if (m[2] !== undefined) next = this.constant(m[2]);
      this.enums.set(m[1]!, next);
      next++;
    }
  }

  private constant(s: string): bigint {
    const t = s.trim();
    if (/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
    const e = this.enums.get(t);
    if (e !== undefined) return e;
    throw new CDeclError(`not a constant: ${s}`);
  }

  private layout(name: string, union: boolean, body: string): CRecord {
    const r: CRecord = { name, union, size: 0, align: 1, fields: [] };
    let bit = 0; // bits of the struct used so far (bitfields pack inside their type's units)
    for (const decl of body.split(';').map((s) => s.trim()).filter(Boolean)) {
      const { base, rest } = splitDecl(decl);
      for (const d of rest.split(',').map((s) => s.trim())) {
        const bf = /^(\w*)\s*:\s*(\d+)$/.exec(d);
        if (bf) {
          // `unsigned int a:4`: inside a unit of its type, never across one (the SysV ABI's rule)
          const t = this.baseType(base);
          if (t.k !== 'int') throw new CDeclError(`bitfield ${bf[1]} must be of an integer type`);
          const unit = t.size * 8;
          const width = Number(bf[2]);
          r.align = Math.max(r.align, t.size);
          if (union) {
            if (bf[1]) r.fields.push({ name: bf[1], offset: 0, type: t, bits: { shift: 0, width } });
            r.size = Math.max(r.size, t.size);
            continue;
          }
          if (width === 0 || (bit % unit) + width > unit) bit = Math.ceil(bit / unit) * unit;
          const start = Math.floor(bit / unit) * unit;
          if (bf[1] && width) r.fields.push({ name: bf[1], offset: start / 8, type: t, bits: { shift: bit - start, width } });
          bit += width;
          continue;
        }
        const dm = /^(\**)\s*(\w+)((?:\s*\[\s*\w+\s*\])*)$/.exec(d);
        if (!dm) throw new CDeclError(`cannot read the member: ${d}`);
        let t: CType = dm[1] ? { k: 'ptr', to: dm[1].length === 1 ? this.pointee(base) : undefined } : this.baseType(base);
        const dims = [...dm[3]!.matchAll(/\[\s*(\w+)\s*\]/g)].map((x) => Number(this.constant(x[1]!)));
        for (const n of dims.reverse()) t = { k: 'array', elem: t, len: n };
        const { size, align } = this.sizeAlign(t);
        const at = union ? 0 : Math.ceil(Math.ceil(bit / 8) / align) * align;
        r.fields.push({ name: dm[2]!, offset: at, type: t });
        if (union) r.size = Math.max(r.size, size);
        else bit = (at + size) * 8;
        r.align = Math.max(r.align, align);
      }
    }
    if (!union) r.size = Math.ceil(bit / 8);
    r.size = Math.ceil(r.size / r.align) * r.align;
    return r;
  }

  /** What a member pointer points to: a record by name (it may be defined later, or be this one), an integer. */
  private pointee(base: string): string | CType | undefined {
    if (/^(struct|union) \w+$/.test(base)) return base;
    try {
      const t = this.baseType(base);
      return t.k === 'int' ? t : undefined;
    } catch {
      return undefined;
    }
  }

  private baseType(base: string): CType {
    if (/^(struct|union) \w+$/.test(base)) {
      if (this.records.has(base)) return { k: 'record', name: base };
      const k = this.kernelType(base);
      if (!k) throw new CDeclError(`${base} is not defined before it is used`);
      return k;
    }
    if (/^enum \w+$/.test(base)) return { k: 'int', size: 4, signed: false };
    const it = INT_NAMES[base.replace(/^signed (char)$/, 'signed $1')] ?? INT_NAMES[base.replace(/ int$/, '')];
    if (it) return { k: 'int', size: it[0], signed: it[1] };
    const k = this.kernelType(base);
    if (!k) throw new CDeclError(`unknown type ${base}`);
    return k;
  }

  private kernelType(base: string): CType | undefined {
    const k = this.kernel?.(base);
    if (!k) return undefined;
    // a typedef of an integer (atomic_t is a struct; pid_t an int): an integer member like any other
    return k.type.k === 'int' ? { k: 'int', size: k.size, signed: k.type.signed } : { k: 'kernel', ...k };
  }

  /**
   * A member of a script struct as a script value: integers, pointers (to a script record: followed
   * with `->`), arrays (char arrays: strings), records (their address: members read with `.`).
   */
  member(record: string, name: string): { offset: number; type: SType; bits?: { shift: number; width: number } } | undefined {
    const f = this.records.get(record)?.fields.find((x) => x.name === name);
    if (!f) return undefined;
    const conv = (t: CType): SType => {
      switch (t.k) {
        case 'int': return { k: 'int', size: t.size as 1 | 2 | 4 | 8, signed: t.signed };
        case 'ptr':
          if (typeof t.to === 'string') {
            if (this.records.has(t.to)) return { k: 'ptr', script: t.to };
            // not the script's own: a pointer to the kernel's struct of that name
            const k = this.kernel?.(t.to)?.type;
            if (k?.k === 'record') return { k: 'ptr', btfId: k.btfId };
            return { k: 'ptr', script: t.to };
          }
          return { k: 'ptr', to: t.to ? conv(t.to) : { k: 'int', size: 1, signed: false } };
        case 'array':
          if (t.elem.k === 'int' && t.elem.size === 1) return { k: 'str', size: t.len };
          return { k: 'array', elem: conv(t.elem), len: t.len };
        case 'record': return this.recordValue(t.name);
        case 'kernel': return t.type;
      }
    };
    return { offset: f.offset, type: conv(f.type), bits: f.bits };
  }

  /** A script struct reached through a pointer (`*$p`, `$p->a` of a struct type): its address, its size. */
  recordValue(name: string): SType {
    return { k: 'record', name, script: { size: this.records.get(name)!.size } };
  }

  /** A script struct as a value print() shows: every member, nested structs and arrays of them included. */
  structValue(name: string): Extract<SType, { k: 'struct' }> {
    const r = this.records.get(name)!;
    const conv = (t: CType): SType => {
      switch (t.k) {
        case 'int': return { k: 'int', size: t.size as 1 | 2 | 4 | 8, signed: t.signed };
        case 'ptr': return { k: 'int', size: 8, signed: false };
        case 'array': return t.elem.k === 'int' && t.elem.size === 1 ? { k: 'str', size: t.len } : { k: 'array', elem: conv(t.elem), len: t.len };
        case 'record': return this.structValue(t.name);
        // print() shows a kernel struct inside a script struct as its bytes
        case 'kernel': return { k: 'array', elem: { k: 'int', size: 1, signed: false }, len: t.size };
      }
    };
    return { k: 'struct', name, size: r.size, fields: r.fields.map((f) => ({ name: f.name, offset: f.offset, type: conv(f.type), bits: f.bits })) };
  }

  sizeAlign(t: CType): { size: number; align: number } {
    switch (t.k) {
      case 'int': return { size: t.size, align: t.size };
      case 'ptr': return { size: 8, align: 8 };
      case 'array': {
        const e = this.sizeAlign(t.elem);
        return { size: e.size * t.len, align: e.align };
      }
      case 'record': {
        const r = this.records.get(t.name)!;
        return { size: r.size, align: r.align };
      }
      case 'kernel': return { size: t.size, align: t.align };
    }
  }
}

const TYPE_WORDS = new Set(['const', 'volatile', 'signed', 'unsigned', 'short', 'long', 'char', 'int', '_Bool', 'bool']);

/** A member declaration's base type (`unsigned long long`, `struct A`, `u32`) and its declarators. */
function splitDecl(decl: string): { base: string; rest: string } {
  const words = decl.trim().split(/\s+/);
  let i = 0;
  if (words[0] === 'struct' || words[0] === 'union' || words[0] === 'enum') i = 2;
  else {
    while (i < words.length && TYPE_WORDS.has(words[i]!)) i++;
    // a typedef name (u32, uint64_t): one word that is no C keyword
    if (i === 0) i = 1;
    else if (words.slice(0, i).every((w) => w === 'const' || w === 'volatile')) i++;
  }
  let base = words.slice(0, i).join(' ');
  let rest = words.slice(i).join(' ');
  // `char*p`, `int *p`: a star glued to the base
  const star = /^(.*?)(\*+)$/.exec(base);
  if (star) (base = star[1]!), (rest = star[2]! + rest);
  base = base.replace(/\b(const|volatile)\b/g, '').trim().replace(/\s+/g, ' ');
  if (!base || !rest) throw new CDeclError(`cannot read the member: ${decl}`);
  return { base, rest };
}
