// The Btf class: a set of types indexed by id, with name lookup, qualifier resolution, size and
// alignment. Types come from a TypeSource: parsed bytes decoded lazily (parse.ts) or objects made by
// the builder (marshal.ts). Split BTF (a module on top of vmlinux) chains to its base: ids below
// `startId` and string offsets below `startStrOff` belong to the base.
import { BtfError } from './error.js';
import { BtfKind, isQualifier, type BtfType } from './types.js';

/** Where a Btf's own types come from. Local index 0 is the Btf's first own id (`startId`). */
export interface TypeSource {
  readonly count: number;
  kind(index: number): BtfKind;
  /** name without building the whole type (for the name index) */
  name(index: number): string;
  decode(index: number, id: number): BtfType;
  /**
   * Local indexes of the types named `name` (prefix: whose name starts with it), found without a
   * name index; undefined if this source cannot (the Btf then builds its index).
   */
  named?(name: string, prefix: boolean): number[] | undefined;
}

/** A string section: `get(offset)` returns the NUL-terminated string starting there. */
export interface StringTable {
  readonly length: number;
  get(offset: number): string;
  /** the section's bytes, when it was parsed from bytes (name lookups compare them) */
  readonly bytes?: Uint8Array;
}

const VOID: BtfType = Object.freeze({ kind: BtfKind.UNKN, id: 0, name: '' }) as BtfType;
const MAX_CHAIN = 64; // longest qualifier/array chain followed before declaring a loop
const LOOKUPS_BEFORE_INDEX = 64; // name lookups by scanning before a name index pays for itself

export class Btf {
  readonly base: Btf | undefined;
  /** first type id owned by this Btf: 1, or the base's length for split BTF */
  readonly startId: number;
  /** first string offset owned by this Btf: 0, or the base's string length for split BTF */
  readonly startStrOff: number;
  /** byte order of the BTF this was parsed from (marshal writes the same) */
  readonly littleEndian: boolean;
  private readonly source: TypeSource;
  private readonly ownStrings: StringTable | undefined;
  private readonly cache: (BtfType | undefined)[];
  private nameIndex: Map<string, number[]> | undefined;
  private allTypes: BtfType[] | undefined;
  private lookups = 0;

  constructor(source: TypeSource, strings: StringTable | undefined, base?: Btf, littleEndian = true) {
    this.source = source;
    this.ownStrings = strings;
    this.base = base;
    this.startId = base ? base.length : 1;
    this.startStrOff = base ? base.stringsLength : 0;
    this.littleEndian = littleEndian;
    this.cache = new Array(source.count);
  }

  /** number of type ids, including void (0) and the base's types */
  get length(): number {
    return this.startId + this.source.count;
  }

  /** total length of the string space (base + own) */
  get stringsLength(): number {
    return this.startStrOff + (this.ownStrings?.length ?? 0);
  }

  /** every type, index = id (decodes all; prefer typeById for single lookups) */
  get types(): readonly BtfType[] {
    if (!this.allTypes) {
      const all = this.base ? [...this.base.types] : [VOID];
      for (let id = this.startId; id < this.length; id++) all.push(this.typeById(id));
      this.allTypes = all;
    }
    return this.allTypes;
  }

  /** the types this Btf owns (not the base's), in id order */
  *ownTypes(): IterableIterator<BtfType> {
    for (let id = this.startId; id < this.length; id++) yield this.typeById(id);
  }

  typeById(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.startId) {
      if (!this.base) throw new BtfError(`type id ${id} out of range`);
      return this.base.typeById(id);
    }
    const i = id - this.startId;
    if (!Number.isInteger(i) || i >= this.source.count || i < 0) {
      throw new BtfError(`type id ${id} out of range (${this.length} types)`);
    }
    let t = this.cache[i];
    if (!t) this.cache[i] = t = this.source.decode(i, id);
    return t;
  }

  /** kind of a type without decoding it */
  kindOf(id: number): BtfKind {
    if (id === 0) return BtfKind.UNKN;
    if (id < this.startId && this.base && id > 0) return this.base.kindOf(id);
    if (id >= this.length || id < this.startId || !Number.isInteger(id)) throw new BtfError(`type id ${id} out of range (${this.length} types)`);
    return this.source.kind(id - this.startId);
  }

  /** name of a type without decoding it ('' if anonymous) */
  nameOf(id: number): string {
    if (id === 0) return '';
    if (id < this.startId && this.base && id > 0) return this.base.nameOf(id);
    if (id >= this.length || id < this.startId || !Number.isInteger(id)) throw new BtfError(`type id ${id} out of range (${this.length} types)`);
    return this.source.name(id - this.startId);
  }

  /** the string at `offset` of the string section (base strings first for split BTF) */
  string(offset: number): string {
    if (offset < this.startStrOff && this.base) return this.base.string(offset);
    if (!this.ownStrings) throw new BtfError(`no string section (offset ${offset})`);
    return this.ownStrings.get(offset - this.startStrOff);
  }

  /** first type named `name` (of `kind` if given); own types before the base's */
  findByName(name: string, kind?: BtfKind): BtfType | undefined {
    for (const id of this.idsNamed(name)) {
      if (kind === undefined || this.kindOf(id) === kind) return this.typeById(id);
    }
    return this.base?.findByName(name, kind);
  }

  /** every type named `name` (of `kind` if given), base's first, in id order */
  findAllByName(name: string, kind?: BtfKind): BtfType[] {
    const out = this.base ? this.base.findAllByName(name, kind) : [];
    for (const id of this.idsNamed(name)) {
      if (kind === undefined || this.kindOf(id) === kind) out.push(this.typeById(id));
    }
    return out;
  }

  /** all distinct names of named types (own and base) */
  *names(): IterableIterator<string> {
    if (this.base) yield* this.base.names();
    yield* this.index().keys();
  }

  /** every type whose name starts with `prefix` (of `kind` if given), base's first, in id order */
  findAllByNamePrefix(prefix: string, kind?: BtfKind): BtfType[] {
    const out = this.base ? this.base.findAllByNamePrefix(prefix, kind) : [];
    let ids = this.nameIndex || !prefix ? undefined : this.source.named?.(prefix, true);
    if (!ids) {
      ids = [];
      for (const [n, l] of this.index()) if (n.startsWith(prefix)) ids.push(...l.map((id) => id - this.startId));
      ids.sort((a, b) => a - b);
    }
    for (const i of ids) {
      const id = this.startId + i;
      if (kind === undefined || this.kindOf(id) === kind) out.push(this.typeById(id));
    }
    return out;
  }

  /**
   * Own type ids named `name`. A few lookups (CO-RE of a tool, an attach target) scan the name
   * offsets without an index: building the index over a kernel's ~100k types costs more than
   * dozens of scans. Past LOOKUPS_BEFORE_INDEX lookups the index is built.
   */
  private idsNamed(name: string): readonly number[] {
    if (!this.nameIndex && this.lookups++ < LOOKUPS_BEFORE_INDEX && name) {
      const local = this.source.named?.(name, false);
      if (local) return local.map((i) => this.startId + i);
    }
    return this.index().get(name) ?? [];
  }

  private index(): Map<string, number[]> {
    if (!this.nameIndex) {
      const m = new Map<string, number[]>();
      const n = this.source.count;
      for (let i = 0; i < n; i++) {
        const name = this.source.name(i);
        if (!name) continue;
        const ids = m.get(name);
        if (ids) ids.push(this.startId + i);
        else m.set(name, [this.startId + i]);
      }
      this.nameIndex = m;
    }
    return this.nameIndex;
  }

  /** id with typedef/const/volatile/restrict/type_tag skipped */
  resolveId(id: number): number {
    for (let n = 0; n < MAX_CHAIN; n++) {
      if (!isQualifier(this.kindOf(id))) return id;
      id = (this.typeById(id) as { type: number }).type;
    }
    throw new BtfError(`type ${id}: qualifier chain too long or cyclic`);
  }

  /** the type with typedef/const/volatile/restrict/type_tag skipped */
  resolve(id: number): BtfType {
    return this.typeById(this.resolveId(id));
  }

  /** size in bytes of a value of type `id` (like libbpf's btf__resolve_size) */
  sizeof(id: number): number {
    let mul = 1;
    for (let n = 0; n < MAX_CHAIN; n++) {
      const t = this.typeById(id);
      // typedef/const/volatile/restrict/type_tag and a variable have the size of the type they name
      if (isQualifier(t.kind) || t.kind === BtfKind.VAR) {
        id = (t as { type: number }).type;
        continue;
      }
      switch (t.kind) {
        case BtfKind.INT:
        case BtfKind.STRUCT:
        case BtfKind.UNION:
        case BtfKind.ENUM:
        case BtfKind.ENUM64:
        case BtfKind.DATASEC:
        case BtfKind.FLOAT:
          return mul * t.size;
        case BtfKind.PTR:
          return mul * 8;
        case BtfKind.ARRAY:
          mul *= t.nelems;
          id = t.type;
          break;
        default:
          throw new BtfError(`type ${id} (${BtfKind[t.kind]} '${t.name}') has no size`);
      }
    }
    throw new BtfError(`type ${id}: type chain too long or cyclic`);
  }

  /** alignment in bytes of type `id` (like libbpf's btf__align_of; packed structs align to 1) */
  alignof(id: number, depth = 0): number {
    if (depth > MAX_CHAIN) throw new BtfError(`type ${id}: type chain too long or cyclic`);
    const t = this.typeById(id);
    // qualifiers, a variable and an array align as the type they name
    if (isQualifier(t.kind) || t.kind === BtfKind.VAR || t.kind === BtfKind.ARRAY) return this.alignof((t as { type: number }).type, depth + 1);
    switch (t.kind) {
      case BtfKind.INT:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FLOAT:
        return Math.max(1, Math.min(t.size, 8));
      case BtfKind.PTR:
        return 8;
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignof(m.type, depth + 1);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1; // packed
          max = Math.max(max, a);
        }
        if (t.size % max !== 0) return 1; // packed
        return max;
      }
      default:
        throw new BtfError(`type ${id} (${BtfKind[t.kind]} '${t.name}') has no alignment`);
    }
  }
}
