// BTF -> C header (vmlinux.h), in the layout `bpftool btf dump file X format c` produces:
// 1. order: a depth-first topological sort where a struct embedded by value (a "strong" link) must be
//    defined first, while one reached through a pointer (a "weak" link) only needs a forward
//    declaration;
// 2. emit: definitions in that order, forward declarations where a cycle needs one, anonymous
//    structs/unions/enums inline, explicit `type: N;` padding so the layout matches the BTF exactly,
//    `__attribute__((packed))` where natural alignment would differ, `___N` suffixes for duplicate names.
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { BtfKind, type BtfArray, type BtfComposite, type BtfEnum, type BtfEnum64, type BtfModifier, type BtfPtr, type BtfType, type BtfTypedef, type BtfTypeTag } from './types.js';

export interface CDumpOptions {
  /** wrap in #ifndef __VMLINUX_H__ ... #endif (default true) */
  guard?: boolean;
  /** guard macro name (default __VMLINUX_H__) */
  guardName?: string;
  /** apply preserve_access_index to every record (CO-RE), unless BPF_NO_PRESERVE_ACCESS_INDEX (default true) */
  preserveAccessIndex?: boolean;
  /** dump only these types (and what they need); default every type */
  ids?: number[];
}

const enum Order {
  NOT_ORDERED = 0,
  ORDERING = 1,
  ORDERED = 2,
}
const enum Emit {
  NOT_EMITTED = 0,
  EMITTING = 1,
  EMITTED = 2,
}

/** A pointer, array or modifier: a C declarator around the one type in t.type (libbpf treats them alike). */
function wrapsType(t: BtfType): t is BtfPtr | BtfArray | BtfModifier | BtfTypeTag {
  return t.kind === BtfKind.PTR || t.kind === BtfKind.ARRAY || t.kind === BtfKind.TYPE_TAG || t.kind === BtfKind.VOLATILE || t.kind === BtfKind.CONST || t.kind === BtfKind.RESTRICT;
}

const MAX_PAD_BITS = 8 * 65536;
const TABS = '\t'.repeat(13);
const pfx = (lvl: number) => (lvl >= 13 ? TABS : TABS.slice(0, lvl));

/** A C header declaring the types of `btf`. */
export function btfToC(btf: Btf, opts: CDumpOptions = {}): string {
  const d = new CDumper(btf);
  const guard = opts.guard ?? true;
  const name = opts.guardName ?? '__VMLINUX_H__';
  const pai = opts.preserveAccessIndex ?? true;
  if (guard) d.out.push(`#ifndef ${name}\n#define ${name}\n\n`);
  if (pai) {
    d.out.push('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n');
    d.out.push('#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n');
    d.out.push('#endif\n\n');
  }
  if (opts.ids) for (const id of opts.ids) d.dumpType(id);
  else for (let id = 1; id < btf.length; id++) d.dumpType(id);
  if (pai) d.out.push('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n');
  if (guard) d.out.push(`#endif /* ${name} */\n`);
  return d.out.join('');
}

/** C declaration of type `id` named `name` (e.g. `int (*name)(void *)`, `struct sock *`). */
export function cTypeDecl(btf: Btf, id: number, name = ''): string {
  const d = new CDumper(btf);
  d.emitTypeDecl(id, name, 0);
  return d.out.join('');
}

interface DeclStack {
  ids: number[];
  cnt: number;
}

class CDumper {
  readonly out: string[] = [];
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly cachedNames = new Map<number, string>();
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];

  constructor(private readonly btf: Btf) {
    const n = btf.length;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.order[0] = Order.ORDERED;
    this.emit[0] = Emit.EMITTED;
    for (let id = 1; id < n; id++) this.markReferenced(btf.typeById(id));
  }

  private t(id: number): BtfType {
    return this.btf.typeById(id);
  }

  private markReferenced(t: BtfType): void {
    const r = this.referenced;
    switch (t.kind) {
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
      case BtfKind.PTR:
      case BtfKind.TYPEDEF:
      case BtfKind.FUNC:
      case BtfKind.VAR:
      case BtfKind.DECL_TAG:
      case BtfKind.TYPE_TAG:
        r[t.type] = 1;
        break;
      case BtfKind.ARRAY:
        r[t.indexType] = 1;
        r[t.type] = 1;
        break;
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        for (const m of t.members) r[m.type] = 1;
        break;
      case BtfKind.FUNC_PROTO:
        for (const p of t.params) r[p.type] = 1;
        break;
      case BtfKind.DATASEC:
        for (const v of t.vars) r[v.type] = 1;
        break;
    }
  }

  dumpType(id: number): void {
    if (id <= 0 || id >= this.btf.length) throw new BtfError(`type id ${id} out of range`);
    this.queue = [];
    this.orderType(id, false, 0);
    for (const q of this.queue) this.emitType(q, 0);
  }

  /** 1: strong link (must be defined first), 0: weak (a forward declaration will do) */
  private orderType(id: number, throughPtr: boolean, depth: number): number {
    if (depth > 512) throw new BtfError(`type ${id}: type graph too deep`);
    if (this.order[id] === Order.ORDERED) return 1;
    const t = this.t(id);
    if (this.order[id] === Order.ORDERING) {
      if ((t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) && throughPtr && t.name) return 0;
      throw new BtfError(`unsatisfiable type cycle at type ${id} (${BtfKind[t.kind]} '${t.name}')`);
    }
    switch (t.kind) {
      case BtfKind.INT:
      case BtfKind.FLOAT:
        this.order[id] = Order.ORDERED;
        return 0;
      case BtfKind.PTR: {
        const r = this.orderType(t.type, true, depth + 1);
        this.order[id] = Order.ORDERED;
        return r;
      }
      case BtfKind.ARRAY:
        return this.orderType(t.type, false, depth + 1);
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        if (throughPtr && t.name) return 0;
        this.order[id] = Order.ORDERING;
        for (const m of t.members) this.orderType(m.type, false, depth + 1);
        if (t.name) this.queue.push(id);
        this.order[id] = Order.ORDERED;
        return 1;
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FWD:
        if (t.name || !this.referenced[id]) this.queue.push(id);
        this.order[id] = Order.ORDERED;
        return 1;
      case BtfKind.TYPEDEF: {
        const strong = this.orderType(t.type, throughPtr, depth + 1);
        if (throughPtr && !strong) return 0;
        this.queue.push(id);
        this.order[id] = Order.ORDERED;
        return 1;
      }
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
      case BtfKind.TYPE_TAG:
        return this.orderType(t.type, throughPtr, depth + 1);
      case BtfKind.FUNC_PROTO: {
        let strong = this.orderType(t.returnType, throughPtr, depth + 1) > 0;
        for (const p of t.params) if (this.orderType(p.type, throughPtr, depth + 1) > 0) strong = true;
        return strong ? 1 : 0;
      }
      default: // FUNC, VAR, DATASEC, DECL_TAG: nothing to declare
        this.order[id] = Order.ORDERED;
        return 0;
    }
  }

  private isBlacklisted(t: BtfType): boolean {
    return t.name === '__builtin_va_list'; // a compiler built-in: redefining it breaks compilation
  }

  private emitType(id: number, contId: number): void {
    if (this.emit[id] === Emit.EMITTED) return;
    const topLevel = contId === 0;
    const t = this.t(id);
    if (this.emit[id] === Emit.EMITTING) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) {
        if (id === contId) return; // a struct referring to itself needs no forward declaration
        if (!t.name) return; // anonymous loop: cannot be expressed, keep going
        this.emitStructFwdDecl(id, t);
      } else if (t.kind === BtfKind.TYPEDEF) {
        // the typedef now serves as a forward declaration (usable through pointers only)
        this.emitTypedefDecl(id, t);
      }
      return;
    }
    switch (t.kind) {
      case BtfKind.INT:
        this.emit[id] = Emit.EMITTED;
        break;
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        if (topLevel) {
          this.emitEnumDef(id, t, 0);
          this.out.push(';\n\n');
        }
        this.emit[id] = Emit.EMITTED;
        break;
      case BtfKind.FWD:
        this.emitFwdDef(id, t);
        this.out.push(';\n\n');
        this.emit[id] = Emit.EMITTED;
        break;
      case BtfKind.TYPEDEF:
        this.emit[id] = Emit.EMITTING;
        this.emitType(t.type, id);
        this.emitTypedefDecl(id, t);
        this.emit[id] = Emit.EMITTED;
        break;
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        this.emit[id] = Emit.EMITTING;
        // a definition spells out its members' types, so they need declarations first
        if (topLevel || !t.name) {
          const inner = t.name ? id : contId;
          for (const m of t.members) this.emitType(m.type, inner);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwdDecl(id, t);
        }
        if (topLevel) {
          this.emitStructDef(id, t, 0);
          this.out.push(';\n\n');
          this.emit[id] = Emit.EMITTED;
        } else {
          this.emit[id] = Emit.NOT_EMITTED;
        }
        break;
      case BtfKind.FUNC_PROTO:
        this.emitType(t.returnType, contId);
        for (const p of t.params) this.emitType(p.type, contId);
        break;
      default: // a pointer, array or modifier needs what it wraps; FUNC, VAR, DATASEC, DECL_TAG nothing
        if (wrapsType(t)) this.emitType(t.type, contId);
    }
  }

  /** `struct name;` at top level; fwdEmitted keeps it to once. */
  private emitStructFwdDecl(id: number, t: BtfComposite): void {
    this.emitStructFwd(id, t);
    this.out.push(';\n\n');
    this.fwdEmitted[id] = 1;
  }

  /** `typedef ...;` at top level, once (a built-in is never redefined). */
  private emitTypedefDecl(id: number, t: BtfTypedef): void {
    if (this.fwdEmitted[id]) return;
    if (!this.isBlacklisted(t)) {
      this.emitTypedefDef(id, t, 0);
      this.out.push(';\n\n');
    }
    this.fwdEmitted[id] = 1;
  }

  private isPacked(t: BtfComposite): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = this.btf.alignof(m.type);
      if (align && m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(maxAlign, align);
    }
    return t.size % maxAlign !== 0;
  }

  private emitBitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    if (curOff >= nextOff) return;
    // real padding is a few bytes; a huge gap means corrupt BTF (and would print forever)
    if (nextOff - curOff > MAX_PAD_BITS) throw new BtfError(`implausible padding of ${(nextOff - curOff) / 8} bytes in a struct`);
    const pads: [string, number][] = [
      ['long', 64],
      ['int', 32],
      ['short', 16],
      ['char', 8],
    ];
    const roundup = (x: number, y: number) => Math.ceil(x / y) * y;
    let newOff = 0;
    let padBits = 0;
    let padType = '';
    for (const [name, bits] of pads) {
      padBits = bits;
      padType = name;
      newOff = roundup(curOff, padBits);
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      // an explicit `<type>: 0` forces the alignment the compiler would not choose by itself
      if (
        inBitfield ||
        (newOff === nextOff && roundup(curOff, nextAlign * 8) !== newOff) ||
        (newOff !== nextOff && nextOff - newOff <= newOff - curOff)
      ) {
        this.out.push(`\n${pfx(lvl)}${padType}: ${inBitfield ? newOff - curOff : 0};`);
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        this.out.push(`\n${pfx(lvl)}${padType}: ${padBits};`);
        curOff += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, pb] = pads[i]!;
        if (pb < bits) continue;
        this.out.push(`\n${pfx(lvl)}${name}: ${bits};`);
        curOff += bits;
        break;
      }
    }
  }

  private emitStructFwd(id: number, t: BtfComposite): void {
    this.out.push(`${t.kind === BtfKind.STRUCT ? 'struct' : 'union'}${t.name ? ' ' : ''}${this.typeName(id)}`);
  }

  private emitStructDef(id: number, t: BtfComposite, lvl: number): void {
    const isStruct = t.kind === BtfKind.STRUCT;
    const align = this.btf.alignof(id);
    const packed = isStruct ? this.isPacked(t) : false;
    this.out.push(`${isStruct ? 'struct' : 'union'}${t.name ? ' ' : ''}${this.typeName(id)} {`);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const mAlign = packed ? 1 : this.btf.alignof(m.type);
      const inBitfield = prevBitfield && m.bitfieldSize !== 0;
      this.emitBitPadding(off, m.bitOffset, mAlign, inBitfield, lvl + 1);
      this.out.push(`\n${pfx(lvl + 1)}`);
      this.emitTypeDecl(m.type, m.name, lvl + 1);
      if (m.bitfieldSize) {
        this.out.push(`: ${m.bitfieldSize}`);
        off = m.bitOffset + m.bitfieldSize;
        prevBitfield = true;
      } else {
        let sz = 0;
        try {
          sz = this.btf.sizeof(m.type);
        } catch {
          sz = 0;
        }
        off = m.bitOffset + sz * 8;
        prevBitfield = false;
      }
      this.out.push(';');
    }
    if (isStruct) this.emitBitPadding(off, t.size * 8, align, false, lvl + 1);
    if (t.members.length || t.size) this.out.push(`\n${pfx(lvl)}}`);
    else this.out.push('}');
    if (packed) this.out.push(' __attribute__((packed))');
  }

  private emitEnumDef(id: number, t: BtfEnum | BtfEnum64, lvl: number): void {
    this.out.push(`enum${t.name ? ' ' : ''}${this.typeName(id)}`);
    if (!t.values.length) return;
    this.out.push(' {');
    const suffix = t.kind === BtfKind.ENUM64 ? (t.signed ? 'LL' : 'ULL') : '';
    for (const v of t.values) {
      const dups = this.nameDups(this.identNames, v.name);
      this.out.push(`\n${pfx(lvl + 1)}${v.name}${dups > 1 ? `___${dups}` : ''} = ${v.value}${suffix},`);
    }
    this.out.push(`\n${pfx(lvl)}}`);
    if (t.size === 1) this.out.push(' __attribute__((mode(byte)))');
    else if (t.size === 8) {
      // a 64-bit enum needs mode(word) unless some value already makes the compiler widen it
      const needsWord = t.kind === BtfKind.ENUM || !(t as BtfEnum64).values.some((v) => BigInt.asUintN(64, v.value) >> 32n !== 0n);
      if (needsWord) this.out.push(' __attribute__((mode(word)))');
    }
  }

  private emitFwdDef(id: number, t: BtfType & { kind: BtfKind.FWD }): void {
    this.out.push(`${t.union ? 'union' : 'struct'} ${this.typeName(id)}`);
  }

  private emitTypedefDef(id: number, t: BtfType & { kind: BtfKind.TYPEDEF }, lvl: number): void {
    const name = this.identName(id);
    if (t.type === 0 && name === '__gnuc_va_list') {
      this.out.push('typedef __builtin_va_list __gnuc_va_list');
      return;
    }
    this.out.push('typedef ');
    this.emitTypeDecl(t.type, name, lvl);
  }

  /** C declaration of `fname` with type `id`: push the chain down to a terminal type, then unwind */
  emitTypeDecl(id: number, fname: string, lvl: number): void {
    const ids: number[] = [];
    for (let guard = 0; ; guard++) {
      if (guard > 256) throw new BtfError(`type ${id}: declaration chain too long or cyclic`);
      ids.push(id);
      if (id === 0) break;
      const t = this.t(id);
      const next = wrapsType(t) ? t.type : t.kind === BtfKind.FUNC_PROTO ? t.returnType : undefined;
      if (next === undefined) break;
      id = next;
    }
    this.emitTypeChain({ ids, cnt: ids.length }, fname, lvl);
  }

  private emitMods(decls: DeclStack): void {
    while (decls.cnt) {
      const k = this.kindAt(decls.ids[decls.cnt - 1]!);
      if (k === BtfKind.VOLATILE) this.out.push('volatile ');
      else if (k === BtfKind.CONST) this.out.push('const ');
      else if (k === BtfKind.RESTRICT) this.out.push('restrict ');
      else return;
      decls.cnt--;
    }
  }

  private dropMods(decls: DeclStack): void {
    while (decls.cnt) {
      const k = this.kindAt(decls.ids[decls.cnt - 1]!);
      if (k !== BtfKind.VOLATILE && k !== BtfKind.CONST && k !== BtfKind.RESTRICT && k !== BtfKind.TYPE_TAG) return;
      decls.cnt--;
    }
  }

  private kindAt(id: number): BtfKind {
    return id === 0 ? BtfKind.UNKN : this.btf.kindOf(id);
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.out.push(name && !lastWasPtr ? ` ${name}` : name);
  }

  private emitTypeChain(decls: DeclStack, fname: string, lvl: number): void {
    let lastWasPtr = true;
    while (decls.cnt) {
      const id = decls.ids[--decls.cnt]!;
      if (id === 0) {
        this.emitMods(decls);
        this.out.push('void');
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case BtfKind.INT:
        case BtfKind.FLOAT:
          this.emitMods(decls);
          this.out.push(t.name);
          break;
        case BtfKind.STRUCT:
        case BtfKind.UNION:
          this.emitMods(decls);
          if (!t.name) this.emitStructDef(id, t, lvl);
          else this.emitStructFwd(id, t);
          break;
        case BtfKind.ENUM:
        case BtfKind.ENUM64:
          this.emitMods(decls);
          if (!t.name) this.emitEnumDef(id, t, lvl);
          else this.out.push(`enum ${this.typeName(id)}`);
          break;
        case BtfKind.FWD:
          this.emitMods(decls);
          this.emitFwdDef(id, t);
          break;
        case BtfKind.TYPEDEF:
          this.emitMods(decls);
          this.out.push(this.identName(id));
          break;
        case BtfKind.PTR:
          this.out.push(lastWasPtr ? '*' : ' *');
          break;
        case BtfKind.VOLATILE:
          this.out.push(' volatile');
          break;
        case BtfKind.CONST:
          this.out.push(' const');
          break;
        case BtfKind.RESTRICT:
          this.out.push(' restrict');
          break;
        case BtfKind.TYPE_TAG:
          this.emitMods(decls);
          this.out.push(t.kindFlag ? ` __attribute__((${t.name}))` : ` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case BtfKind.ARRAY: {
          // qualifiers on an array itself (a GCC quirk) mean nothing in C: drop them
          this.dropMods(decls);
          if (decls.cnt === 0) {
            this.emitName(fname, lastWasPtr);
            this.out.push(`[${t.nelems}]`);
            return;
          }
          const multidim = this.kindAt(decls.ids[decls.cnt - 1]!) === BtfKind.ARRAY;
          if (fname && !lastWasPtr) this.out.push(' ');
          if (!multidim) this.out.push('(');
          this.emitTypeChain(decls, fname, lvl);
          if (!multidim) this.out.push(')');
          this.out.push(`[${t.nelems}]`);
          return;
        }
        case BtfKind.FUNC_PROTO: {
          this.dropMods(decls);
          if (decls.cnt) {
            this.out.push(' (');
            this.emitTypeChain(decls, fname, lvl);
            this.out.push(')');
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.out.push('(');
          const ps = t.params;
          // clang writes f(void) as one void parameter
          if (ps.length === 0 || (ps.length === 1 && ps[0]!.type === 0)) {
            this.out.push('void)');
            return;
          }
          for (let i = 0; i < ps.length; i++) {
            if (i > 0) this.out.push(', ');
            if (i === ps.length - 1 && ps[i]!.type === 0) {
              this.out.push('...');
              break;
            }
            this.emitTypeDecl(ps[i]!.type, ps[i]!.name, lvl);
          }
          this.out.push(')');
          return;
        }
        default:
          throw new BtfError(`type ${id} (${BtfKind[t.kind]}) cannot appear in a C declaration`);
      }
      lastWasPtr = t.kind === BtfKind.PTR;
    }
    this.emitName(fname, lastWasPtr);
  }

  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.t(id);
    if (!t.name) return '';
    if (this.nameResolved[id]) return this.cachedNames.get(id) ?? t.name;
    this.nameResolved[id] = 1;
    if (t.kind === BtfKind.FWD || (t.kind === BtfKind.ENUM && t.values.length === 0)) return t.name;
    const dups = this.nameDups(map, t.name);
    if (dups > 1) {
      const n = `${t.name}___${dups}`;
      this.cachedNames.set(id, n);
      return n;
    }
    return t.name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }
}
