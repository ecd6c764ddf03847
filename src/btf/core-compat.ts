// The type relations CO-RE matching uses, as libbpf defines them (relo_core.c): essential names,
// field compatibility (for field relocations), type compatibility (TYPE_EXISTS/SIZE/ID_TARGET) and the
// stricter layout-aware TYPE_MATCHES relation.
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { BtfKind, BTF_INT_SIGNED, type BtfType } from './types.js';

const MAX_LEVEL = 32;

/** `task_struct___old` -> `task_struct`: the name without the last `___flavor` suffix */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') {
      return name.slice(0, i + 1);
    }
  }
  return name;
}

export function skipModsAndTypedefs(btf: Btf, id: number): { t: BtfType; id: number } {
  const rid = btf.resolveId(id);
  return { t: btf.typeById(rid), id: rid };
}

export function isAnyEnum(t: BtfType): boolean {
  return t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64;
}
export function isComposite(t: BtfType): boolean {
  return t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION;
}
/** same kind, or enum vs enum64 */
export function kindCoreCompat(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}
export function kflag(t: BtfType): boolean {
  switch (t.kind) {
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      return t.kindFlag;
    case BtfKind.ENUM:
    case BtfKind.ENUM64:
      return t.signed;
    case BtfKind.FWD:
      return t.union;
    default:
      return false;
  }
}
/** Field compatibility for matching (bpf_core_fields_are_compat). */
export function fieldsAreCompat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  for (let depth = 0; depth < MAX_LEVEL; depth++) {
    const l = skipModsAndTypedefs(lb, lid);
    const r = skipModsAndTypedefs(tb, tid);
    if (isComposite(l.t) && isComposite(r.t)) return true;
    if (!kindCoreCompat(l.t, r.t)) return false;
    switch (l.t.kind) {
      case BtfKind.PTR:
      case BtfKind.FLOAT:
        return true;
      case BtfKind.FWD:
      case BtfKind.ENUM:
      case BtfKind.ENUM64: {
        const ln = essentialName(l.t.name);
        const rn = essentialName(r.t.name);
        return ln === '' || rn === '' || ln === rn;
      }
      case BtfKind.INT:
        return l.t.bitOffset === 0 && (r.t as { bitOffset: number }).bitOffset === 0;
      case BtfKind.ARRAY:
        lid = l.t.type;
        tid = (r.t as { type: number }).type;
        continue;
      default:
        return false;
    }
  }
  throw new BtfError('CO-RE field compatibility: type chain too deep');
}

/** Type compatibility for TYPE_EXISTS/TYPE_SIZE/TYPE_ID_TARGET (bpf_core_types_are_compat). */
export function coreTypesAreCompat(lb: Btf, lid: number, tb: Btf, tid: number, level = MAX_LEVEL): boolean {
  if (!kindCoreCompat(lb.typeById(lid), tb.typeById(tid))) return false;
  for (let depth = MAX_LEVEL; ; ) {
    if (--depth < 0) throw new BtfError('CO-RE type compatibility: type chain too deep');
    const l = skipModsAndTypedefs(lb, lid);
    const r = skipModsAndTypedefs(tb, tid);
    if (!kindCoreCompat(l.t, r.t)) return false;
    switch (l.t.kind) {
      case BtfKind.UNKN:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FWD:
        return true;
      case BtfKind.INT:
        return l.t.bitOffset === 0 && (r.t as { bitOffset: number }).bitOffset === 0;
      case BtfKind.PTR:
      case BtfKind.ARRAY:
        lid = l.t.type;
        tid = (r.t as { type: number }).type;
        continue;
      case BtfKind.FUNC_PROTO: {
        const rp = r.t as typeof l.t;
        if (l.t.params.length !== rp.params.length) return false;
        for (let i = 0; i < l.t.params.length; i++) {
          if (level <= 0) throw new BtfError('CO-RE type compatibility: nesting too deep');
          const a = lb.resolveId(l.t.params[i]!.type);
          const b = tb.resolveId(rp.params[i]!.type);
          if (!coreTypesAreCompat(lb, a, tb, b, level - 1)) return false;
        }
        lid = lb.resolveId(l.t.returnType);
        tid = tb.resolveId(rp.returnType);
        continue;
      }
      default:
        return false;
    }
  }
}

function namesMatch(ln: string, tn: string): boolean {
  if (!tn) return !ln;
  return essentialName(ln) === essentialName(tn);
}

function enumsMatch(lt: BtfType, tt: BtfType): boolean {
  const l = lt as { size: number; values: { name: string }[] };
  const r = tt as { size: number; values: { name: string }[] };
  if (l.size !== r.size || l.values.length > r.values.length) return false;
  return l.values.every((lv) => r.values.some((rv) => namesMatch(lv.name, rv.name)));
}

/** TYPE_MATCHES relation (bpf_core_types_match): a stricter, layout-aware match. */
export function coreTypesMatch(lb: Btf, lid: number, tb: Btf, tid: number, behindPtr = false, level = MAX_LEVEL): boolean {
  if (level <= 0) throw new BtfError('CO-RE type match: nesting too deep');
  for (let depth = MAX_LEVEL; ; ) {
    if (--depth < 0) throw new BtfError('CO-RE type match: type chain too deep');
    const l = skipModsAndTypedefs(lb, lid);
    const r = skipModsAndTypedefs(tb, tid);
    if (!namesMatch(l.t.name, r.t.name)) return false;
    const lk = l.t.kind;
    const tk = r.t.kind;
    switch (l.t.kind) {
      case BtfKind.UNKN:
        return lk === tk;
      case BtfKind.FWD: {
        const lf = l.t.union;
        if (behindPtr) {
          if (lk === tk) return lf === kflag(r.t);
          return (tk === BtfKind.STRUCT && !lf) || (tk === BtfKind.UNION && lf);
        }
        return lk === tk && lf === kflag(r.t);
      }
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return isAnyEnum(r.t) && enumsMatch(l.t, r.t);
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        if (behindPtr) {
          if (lk === tk) return true;
          if (tk !== BtfKind.FWD) return false;
          return (lk === BtfKind.UNION) === kflag(r.t);
        }
        if (lk !== tk) return false;
        const rm = (r.t as typeof l.t).members;
        if (l.t.members.length > rm.length) return false;
        for (const m of l.t.members) {
          const hit = rm.some((tm) => namesMatch(m.name, tm.name) && coreTypesMatch(lb, m.type, tb, tm.type, behindPtr, level - 1));
          if (!hit) return false;
        }
        return true;
      }
      case BtfKind.INT: {
        if (lk !== tk) return false;
        const rt = r.t as typeof l.t;
        return l.t.size === rt.size && (l.t.encoding & BTF_INT_SIGNED) === (rt.encoding & BTF_INT_SIGNED);
      }
      case BtfKind.PTR:
        if (lk !== tk) return false;
        behindPtr = true;
        lid = l.t.type;
        tid = (r.t as { type: number }).type;
        continue;
      case BtfKind.ARRAY: {
        if (lk !== tk) return false;
        const rt = r.t as typeof l.t;
        if (l.t.nelems !== rt.nelems) return false;
        lid = l.t.type;
        tid = rt.type;
        continue;
      }
      case BtfKind.FUNC_PROTO: {
        if (lk !== tk) return false;
        const rt = r.t as typeof l.t;
        if (l.t.params.length !== rt.params.length) return false;
        for (let i = 0; i < l.t.params.length; i++) {
          if (!coreTypesMatch(lb, l.t.params[i]!.type, tb, rt.params[i]!.type, behindPtr, level - 1)) return false;
        }
        lid = l.t.returnType;
        tid = rt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}
