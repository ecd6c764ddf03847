// TypeScript declarations of BTF types, as src/btf/codec.ts decodes their values: the types that
// `tsbpf gen types` writes must describe exactly what a map's get() or a ring buffer returns.
//   ints up to 32 bits, enums, floats -> number; 64/128-bit ints, ENUM64 of 8 bytes, pointers -> bigint;
//   _Bool -> boolean; char arrays -> string; other arrays -> T[]; struct/union -> an interface (named
//   after the C type; anonymous ones inline, anonymous members lifted into their parent as the codec
//   does); DATASEC -> an object of its variables.
// 'input' types are what encode() accepts (constants): 64-bit ints also as numbers, char arrays also
// as bytes, structs partially (missing members are zero).
import type { Btf } from '../btf/btf.js';
import { BtfKind, BTF_INT_BOOL, BTF_INT_CHAR, type BtfMember, type BtfType } from '../btf/types.js';

export type TypeMode = 'value' | 'input';

/** One exported declaration of a generated module (`value`: a constant object, not only a type). */
export interface Declaration {
  name: string;
  text: string;
  value?: boolean;
}

/** A member of an object type: a variable of a data section. */
export interface ObjectField {
  name: string;
  type: string;
  /** its C type, for the doc comment */
  doc: string;
  optional?: boolean;
}

/** A member of an object type as its body writes it. */
export function objectField(f: ObjectField): string {
  return `  /** ${f.doc} */\n  ${propName(f.name)}${f.optional ? '?' : ''}: ${f.type};`;
}

/** `export type Name = { body };`, or `= Base & { body };` with members picked from a shared type. */
export function objectType(name: string, doc: string, body: string, base?: string): string {
  const own = body ? `{\n${body}\n}` : '';
  return `/** ${doc} */\nexport type ${name} = ${base && own ? `${base} & ${own}` : base ?? (own || '{}')};`;
}

const RESERVED = new Set(['Array', 'Uint8Array', 'Record', 'Partial', 'Readonly', 'Promise', 'Map', 'Set', 'Object', 'String', 'Number', 'Boolean', 'BigInt', 'Symbol', 'Error', 'Function', 'Date']);

/** `ipv4_flow_key` -> `Ipv4FlowKey`, `tc-limit` -> `TcLimit`. */
export function pascalCase(name: string): string {
  const s = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  return /^[0-9]/.test(s) ? `T${s}` : s || 'Anonymous';
}

/** A property name as written in TypeScript: bare when it is an identifier, quoted otherwise. */
export function propName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : quote(name);
}

/** A single-quoted string literal. */
export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** The types of one object's BTF, declared once each, in the order they are first needed. */
export class TypeWriter {
  /** BTF id of a named struct/union/enum (or the typedef naming an anonymous one) -> declared name */
  private readonly names = new Map<number, string>();
  private readonly taken: Set<string>;
  private readonly decls: Declaration[] = [];

  constructor(
    private readonly btf: Btf,
    reserved: Iterable<string> = [],
  ) {
    this.taken = new Set([...RESERVED, ...reserved]);
  }

  /** A name no declaration of this file has yet (`Event`, then `Event2`). */
  claim(wanted: string): string {
    let name = wanted;
    for (let i = 2; this.taken.has(name); i++) name = `${wanted}${i}`;
    this.taken.add(name);
    return name;
  }

  /** The declarations made so far, in order. */
  declarations(): readonly Declaration[] {
    return this.decls;
  }

  /** The TypeScript type of a value of BTF type `id`. */
  type(id: number, mode: TypeMode = 'value', depth = 0): string {
    if (depth > 48) return 'unknown'; // cyclic BTF: the codec refuses it too
    const t = this.btf.typeById(id);
    switch (t.kind) {
      case BtfKind.TYPEDEF: {
        const inner = this.btf.resolve(t.type);
        // an anonymous struct named by its typedef (`typedef struct { ... } foo_t`) is declared as foo_t
        if ((inner.kind === BtfKind.STRUCT || inner.kind === BtfKind.UNION) && !inner.name && !this.names.has(inner.id)) this.names.set(inner.id, this.declareComposite(inner, t.name));
        return this.type(t.type, mode, depth + 1);
      }
      case BtfKind.CONST:
      case BtfKind.VOLATILE:
      case BtfKind.RESTRICT:
      case BtfKind.TYPE_TAG:
      case BtfKind.VAR:
        return this.type(t.type, mode, depth + 1);
      case BtfKind.INT:
        if (t.encoding & BTF_INT_BOOL) return 'boolean';
        if (t.size <= 4) return 'number';
        return mode === 'input' ? 'number | bigint' : 'bigint';
      case BtfKind.ENUM:
        return this.enumType(t);
      case BtfKind.ENUM64:
        this.enumType(t);
        return t.size === 8 ? (mode === 'input' ? 'number | bigint' : 'bigint') : 'number';
      case BtfKind.PTR:
        return mode === 'input' ? 'number | bigint' : 'bigint';
      case BtfKind.FLOAT:
        return t.size === 4 || t.size === 8 ? 'number' : 'Uint8Array';
      case BtfKind.ARRAY: {
        if (this.isChar(t.type)) return mode === 'input' ? 'string | Uint8Array' : 'string';
        const elem = this.type(t.type, mode, depth + 1);
        const wrapped = /^[A-Za-z0-9_]+$/.test(elem) ? elem : `(${elem})`;
        return mode === 'input' ? `readonly ${wrapped}[]` : `${wrapped}[]`;
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        let name = this.names.get(t.id);
        if (name === undefined && t.name) this.names.set(t.id, (name = this.declareComposite(t, t.name)));
        const shape = name ?? `{ ${this.members(t, mode, depth).join(' ')} }`;
        return mode === 'input' && name ? `Partial<${shape}>` : shape;
      }
      case BtfKind.DATASEC:
        return `{ ${t.vars.map((v) => `${propName(this.btf.nameOf(v.type))}: ${this.type(v.type, mode, depth + 1)};`).join(' ')} }`;
      default:
        return 'unknown';
    }
  }

  /** The C spelling of a type, for doc comments: `__u8[16]`, `struct event`, `char *`. */
  cName(id: number, depth = 0): string {
    const t = this.btf.typeById(id);
    if (depth > 16) return '…';
    switch (t.kind) {
      case BtfKind.UNKN:
        return 'void';
      case BtfKind.INT:
      case BtfKind.TYPEDEF:
      case BtfKind.FLOAT:
        return t.name;
      case BtfKind.STRUCT:
        return `struct ${t.name || '{…}'}`;
      case BtfKind.UNION:
        return `union ${t.name || '{…}'}`;
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return `enum ${t.name || '{…}'}`;
      case BtfKind.PTR:
        return `${this.cName(t.type, depth + 1)} *`;
      case BtfKind.ARRAY:
        return `${this.cName(t.type, depth + 1)}[${t.nelems}]`;
      case BtfKind.CONST:
        return `const ${this.cName(t.type, depth + 1)}`;
      case BtfKind.VOLATILE:
        return `volatile ${this.cName(t.type, depth + 1)}`;
      case BtfKind.VAR:
        return this.cName(t.type, depth + 1);
      default:
        return t.name || BtfKind[t.kind].toLowerCase();
    }
  }

  /** Declares `export type Name = { ... }` for a record of members (a DATASEC's variables, the constants). */
  declareObject(name: string, doc: string, fields: readonly ObjectField[]): void {
    this.decls.push({ name, text: objectType(name, doc, fields.map(objectField).join('\n')) });
  }

  private isChar(id: number): boolean {
    const e = this.btf.resolve(id);
    return e.kind === BtfKind.INT && e.size === 1 && (e.name === 'char' || (e.encoding & BTF_INT_CHAR) !== 0);
  }

  private declareComposite(t: Composite, cName: string): string {
    const name = this.claim(pascalCase(cName));
    // registered before its members are written: a member's pointer back to it is a bigint, but the
    // same struct reached again while declaring (through a typedef) must not be declared twice
    this.names.set(t.id, name);
    const what = `${t.kind === BtfKind.UNION ? 'union' : 'struct'} ${t.name || cName}`;
    const lines = this.members(t, 'value', 0).map((m) => `  ${m}`);
    this.decls.push({ name, text: `/** ${what} (${t.size} bytes)${t.kind === BtfKind.UNION ? ': every member is read, the ones given are written' : ''} */\nexport interface ${name} {\n${lines.join('\n')}\n}` });
    return name;
  }

  /** `/** __u32 *\/ pid: number;` per member; anonymous struct/union members lifted, as the codec does. */
  private members(t: Composite, mode: TypeMode, depth: number): string[] {
    const out: string[] = [];
    for (const m of t.members) {
      const mt = this.btf.resolve(m.type);
      if (!m.name) {
        if (mt.kind === BtfKind.STRUCT || mt.kind === BtfKind.UNION) out.push(...this.members(mt, mode, depth + 1));
        continue; // unnamed padding bitfield
      }
      out.push(`/** ${this.memberDoc(m)} */ ${propName(m.name)}${mode === 'input' ? '?' : ''}: ${this.type(m.type, mode, depth + 1)};`);
    }
    return out;
  }

  private memberDoc(m: BtfMember): string {
    return `${this.cName(m.type)}${m.bitfieldSize ? ` : ${m.bitfieldSize}` : ''}`;
  }

  /** A named enum's values, declared once as a constant object (its members' values decode as numbers). */
  private enumType(t: Extract<BtfType, { kind: BtfKind.ENUM | BtfKind.ENUM64 }>): string {
    if (!t.name || this.names.has(t.id)) return 'number';
    const name = this.claim(pascalCase(t.name));
    this.names.set(t.id, name);
    const big = t.kind === BtfKind.ENUM64 && t.size === 8;
    const values = t.values.map((v) => `  ${propName(v.name)}: ${big ? `${BigInt(v.value)}n` : String(Number(v.value))},`);
    this.decls.push({ name, text: `/** enum ${t.name}: its values by name (members of this type decode as ${big ? 'bigint' : 'number'}s) */\nexport const ${name} = {\n${values.join('\n')}\n} as const;`, value: true });
    return 'number';
  }
}

type Composite = Extract<BtfType, { kind: BtfKind.STRUCT | BtfKind.UNION }>;

