// The raw text dump, line for line what `bpftool btf dump file X` (format raw) prints:
// "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", members indented with a tab.
import type { Btf } from './btf.js';
import { BtfKind, BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL, type BtfType } from './types.js';

const FUNC_LINKAGE = ['static', 'global', 'extern'];
const VAR_LINKAGE = ['static', 'global', 'extern'];

function intEncoding(e: number): string {
  switch (e) {
    case 0:
      return '(none)';
    case BTF_INT_SIGNED:
      return 'SIGNED';
    case BTF_INT_CHAR:
      return 'CHAR';
    case BTF_INT_BOOL:
      return 'BOOL';
    default:
      return 'UNKN';
  }
}

/** One type in bpftool's raw format (may span several lines). */
export function rawTypeLine(btf: Btf, t: BtfType): string {
  const head = `[${t.id}] ${BtfKind[t.kind]} '${t.name || '(anon)'}'`;
  switch (t.kind) {
    case BtfKind.INT:
      return `${head} size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
    case BtfKind.PTR:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.TYPE_TAG:
      return `${head} type_id=${t.type}`;
    case BtfKind.ARRAY:
      return `${head} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      let s = `${head} size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${m.name || '(anon)'}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      return s;
    }
    case BtfKind.ENUM:
    case BtfKind.ENUM64: {
      let s = `${head} encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      const suffix = t.kind === BtfKind.ENUM64 ? (t.signed ? 'LL' : 'ULL') : '';
      for (const v of t.values) s += `\n\t'${v.name || '(anon)'}' val=${v.value}${suffix}`;
      return s;
    }
    case BtfKind.FWD:
      return `${head} fwd_kind=${t.union ? 'union' : 'struct'}`;
    case BtfKind.FUNC:
      return `${head} type_id=${t.type} linkage=${FUNC_LINKAGE[t.linkage] ?? 'UNKN'}`;
    case BtfKind.FUNC_PROTO: {
      let s = `${head} ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${p.name || '(anon)'}' type_id=${p.type}`;
      return s;
    }
    case BtfKind.VAR:
      return `${head} type_id=${t.type}, linkage=${VAR_LINKAGE[t.linkage] ?? 'UNKN'}`;
    case BtfKind.DATASEC: {
      let s = `${head} size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size} (${BtfKind[btf.kindOf(v.type)]} '${btf.nameOf(v.type)}')`;
      return s;
    }
    case BtfKind.FLOAT:
      return `${head} size=${t.size}`;
    case BtfKind.DECL_TAG:
      return `${head} type_id=${t.type} component_idx=${t.componentIdx}`;
    default:
      return head;
  }
}

/** The whole Btf's own types (not a split base's), one `rawTypeLine` per type, newline-terminated. */
export function btfToRaw(btf: Btf): string {
  const out: string[] = [];
  for (const t of btf.ownTypes()) out.push(rawTypeLine(btf, t));
  return out.join('\n') + '\n';
}
