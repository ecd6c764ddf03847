// The byte layout of a C struct or union as BTF describes it, flattened into named fields: what
// scripts/gen-abi.js writes into src/uapi/ (the kernel's bpf_attr and *_info structs) and what the
// test checks the committed layouts against.
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { BtfKind, BTF_INT_SIGNED, isComposite, type BtfComposite } from './types.js';

export interface FieldLayout {
  /** the C access path below the struct: `map_type`, `kprobe_multi.cnt` (anonymous members add nothing) */
  path: string;
  /** byte offset of the field (of its storage unit, for a bitfield) */
  offset: number;
  /** bytes: the whole array for arrays, the storage unit (the declared type's size) for a bitfield */
  size: number;
  /** a signed integer (or enum) */
  signed?: boolean;
  /** bitfield: first bit inside the storage unit, and width */
  bit?: number;
  bits?: number;
}

/**
 * Every named leaf field of struct/union type `id`, in declaration order. A named struct or union
 * member is a prefix (`tracing.target_btf_id`); an anonymous one stands for its members, so union
 * alternatives appear side by side at one offset, as C code names them. Unnamed bitfields (padding)
 * are left out.
 */
export function fieldLayout(btf: Btf, id: number): FieldLayout[] {
  const t = btf.resolve(id);
  if (!isComposite(t)) throw new BtfError(`type ${id} (${BtfKind[t.kind]} '${t.name}') is not a struct or union`);
  const out: FieldLayout[] = [];
  walk(btf, t, '', 0, out);
  return out;
}

function walk(btf: Btf, t: BtfComposite, prefix: string, base: number, out: FieldLayout[]): void {
  for (const m of t.members) {
    const mt = btf.resolve(m.type);
    if (isComposite(mt)) {
      if (m.bitOffset % 8) throw new BtfError(`${t.name || '(anonymous)'}.${m.name}: a struct member at bit ${m.bitOffset}`);
      walk(btf, mt, m.name ? `${prefix}${m.name}.` : prefix, base + m.bitOffset / 8, out);
      continue;
    }
    if (!m.name) continue; // padding bitfield (`__u32 :31`)
    const size = btf.sizeof(m.type);
    const signed = mt.kind === BtfKind.INT ? (mt.encoding & BTF_INT_SIGNED) !== 0 : mt.kind === BtfKind.ENUM || mt.kind === BtfKind.ENUM64 ? mt.signed : false;
    const f: FieldLayout = { path: prefix + m.name, offset: base + Math.floor(m.bitOffset / 8), size };
    if (m.bitfieldSize > 0) {
      // the storage unit of the declared type that holds the bits (as the C compiler lays them out)
      const unit = Math.floor(m.bitOffset / (size * 8)) * size;
      f.offset = base + unit;
      f.bit = m.bitOffset - unit * 8;
      f.bits = m.bitfieldSize;
    } else if (m.bitOffset % 8) {
      throw new BtfError(`${t.name || '(anonymous)'}.${m.name}: not byte-aligned (bit ${m.bitOffset})`);
    }
    if (signed) f.signed = true;
    out.push(f);
  }
}
