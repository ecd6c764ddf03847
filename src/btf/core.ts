// CO-RE relocation resolution, with libbpf's semantics (relo_core.c): parse the local access spec,
// find target candidates by essential name (the part before a `___flavor` suffix), match the spec
// against each candidate (named fields through anonymous members, array bounds, compatible types),
// require all matching candidates to agree, and compute the value the instruction should hold.
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { CoreReloKind, type CoreRelo } from './ext.js';
import { BtfKind, BTF_INT_SIGNED, type BtfType } from './types.js';
import {
  essentialName,
  skipModsAndTypedefs,
  isAnyEnum,
  isComposite,
  kindCoreCompat,
  kflag,
  fieldsAreCompat,
  coreTypesAreCompat,
  coreTypesMatch,
} from './core-compat.js';

export { CoreReloKind, type CoreRelo };
export { essentialName, coreTypesAreCompat, coreTypesMatch };

/** Max accessors in a spec (BPF_CORE_SPEC_MAX_LEN) */
const SPEC_MAX_LEN = 64;
const MAX_LEVEL = 32;

/** One high-level step of a spec: a named field, or an array index (name undefined). */
export interface CoreAccessor {
  typeId: number;
  idx: number;
  name?: string;
}

/** A parsed (local) or matched (target) access spec. */
export interface CoreSpec {
  btf: Btf;
  rootTypeId: number;
  kind: CoreReloKind;
  /** high-level accessors: named fields and array indices */
  spec: CoreAccessor[];
  /** low-level path: every member index, including anonymous members */
  raw: number[];
  /** bit offset of the accessed field from the root */
  bitOffset: number;
}

interface CalcResult {
  origValue: bigint;
  value: bigint;
  poison: boolean;
  validate: boolean;
  failMemszAdjust: boolean;
  origSize: number;
  newSize: number;
}

export type CoreResult =
  | ({
      ok: true;
      /** the value to write into the instruction */
      value: number | bigint;
      /** the value the compiler put there (what the local BTF says) */
      origValue: number | bigint;
      /** check the instruction holds origValue before patching (off for bitfields and type ids) */
      validate: boolean;
      /** a load/store of the field must change width: origSize -> newSize bytes (0 = unchanged) */
      origSize: number;
      newSize: number;
      /** the width change would misread the value (signed or non-integer): poison the load instead */
      failMemszAdjust: boolean;
      /** the local spec and the matched target spec, libbpf style */
      local: string;
      target?: string;
      /** target root type id (undefined when no candidate matched) */
      targetTypeId?: number;
      /** the target BTF it is in (vmlinux or a module's) */
      targetBtf?: Btf;
    })
  | {
      ok: false;
      /** why: the instruction should be poisoned (it fails verification if reachable) */
      reason: string;
      local: string;
    };

/** Kind groups */
export function isFieldRelo(k: CoreReloKind): boolean {
  return k <= CoreReloKind.FIELD_RSHIFT_U64;
}
export function isTypeRelo(k: CoreReloKind): boolean {
  return (k >= CoreReloKind.TYPE_ID_LOCAL && k <= CoreReloKind.TYPE_SIZE) || k === CoreReloKind.TYPE_MATCHES;
}
export function isEnumvalRelo(k: CoreReloKind): boolean {
  return k === CoreReloKind.ENUMVAL_EXISTS || k === CoreReloKind.ENUMVAL_VALUE;
}

/** libbpf's short name of a relocation kind ('byte_off', 'field_exists', ...) */
export function coreReloKindName(k: CoreReloKind): string {
  return (
    [
      'byte_off',
      'byte_sz',
      'field_exists',
      'signed',
      'lshift_u64',
      'rshift_u64',
      'local_type_id',
      'target_type_id',
      'type_exists',
      'type_size',
      'enumval_exists',
      'enumval_value',
      'type_matches',
    ][k] ?? 'unknown'
  );
}

function sizeOrThrow(btf: Btf, id: number): number {
  return btf.sizeof(id);
}

function isFlexArr(btf: Btf, acc: CoreAccessor | undefined, nelems: number): boolean {
  if (!acc || acc.name === undefined || nelems > 0) return false;
  const t = btf.typeById(acc.typeId);
  return isComposite(t) && acc.idx === (t as { members: unknown[] }).members.length - 1;
}

/** Parse relo.accessStr against the local BTF (bpf_core_parse_spec). Throws BtfError if malformed. */
export function parseCoreSpec(btf: Btf, typeId: number, accessStr: string, kind: CoreReloKind): CoreSpec {
  const spec: CoreSpec = { btf, rootTypeId: typeId, kind, spec: [], raw: [], bitOffset: 0 };
  const fail = (why: string): never => {
    throw new BtfError(`CO-RE spec [${typeId}] '${btf.nameOf(typeId) || '<anon>'}' + "${accessStr}": ${why}`);
  };
  if (!accessStr || accessStr[0] === ':') fail('empty or malformed access string');
  if (isTypeRelo(kind)) {
    if (accessStr !== '0') fail('type relocations take the access string "0"');
    return spec;
  }
  if (!/^\d+(:\d+)*$/.test(accessStr)) fail('malformed access string');
  spec.raw = accessStr.split(':').map(Number);
  if (spec.raw.length > SPEC_MAX_LEN) fail('access string too long');
  let { t, id } = skipModsAndTypedefs(btf, typeId);
  let accessIdx = spec.raw[0]!;
  spec.spec.push({ typeId: id, idx: accessIdx });
  if (isEnumvalRelo(kind)) {
    if (!isAnyEnum(t)) fail(`${BtfKind[t.kind]} is not an enum`);
    const values = (t as { values: { name: string }[] }).values;
    if (spec.raw.length > 1 || accessIdx >= values.length) fail(`enumerator #${accessIdx} out of range`);
    spec.spec[0]!.name = values[accessIdx]!.name;
    return spec;
  }
  if (!isFieldRelo(kind)) fail(`unknown relocation kind ${kind}`);
  spec.bitOffset = accessIdx * sizeOrThrow(btf, id) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    ({ t, id } = skipModsAndTypedefs(btf, id));
    accessIdx = spec.raw[i]!;
    if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) {
      if (accessIdx >= t.members.length) fail(`member #${accessIdx} out of range in '${t.name || '<anon>'}'`);
      const m = t.members[accessIdx]!;
      spec.bitOffset += m.bitOffset;
      if (m.name) spec.spec.push({ typeId: id, idx: accessIdx, name: m.name });
      id = m.type;
    } else if (t.kind === BtfKind.ARRAY) {
      const nelems = t.nelems;
      ({ t, id } = skipModsAndTypedefs(btf, t.type));
      const flex = isFlexArr(btf, spec.spec[spec.spec.length - 1], nelems);
      if (!flex && accessIdx >= nelems) fail(`array index ${accessIdx} out of bounds [${nelems}]`);
      spec.spec.push({ typeId: id, idx: accessIdx });
      spec.bitOffset += accessIdx * sizeOrThrow(btf, id) * 8;
    } else {
      fail(`step ${i} reaches type [${id}] of unexpected kind ${BtfKind[t.kind]}`);
    }
  }
  return spec;
}

/** Find a local named field in a target composite, descending into anonymous members. */
function matchMember(lb: Btf, lacc: CoreAccessor, tb: Btf, targId: number, spec: CoreSpec, out: { next: number }, depth = 0): boolean {
  if (depth > MAX_LEVEL) throw new BtfError('CO-RE member match: anonymous nesting too deep');
  const { t, id } = skipModsAndTypedefs(tb, targId);
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return false;
  const lt = lb.typeById(lacc.typeId) as { members: { name: string; type: number }[] };
  const lm = lt.members[lacc.idx]!;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (spec.raw.length === SPEC_MAX_LEN) throw new BtfError('CO-RE member match: spec too long');
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (!m.name) {
      if (matchMember(lb, lacc, tb, m.type, spec, out, depth + 1)) return true;
    } else if (m.name === lm.name) {
      spec.spec.push({ typeId: id, idx: i, name: m.name });
      out.next = m.type;
      const ok = fieldsAreCompat(lb, lm.type, tb, m.type);
      if (!ok) spec.spec.pop();
      return ok;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return false;
}

/** Match a local spec against target type `targId` (bpf_core_spec_match); undefined if no match. */
export function matchCoreSpec(local: CoreSpec, tb: Btf, targId: number): CoreSpec | undefined {
  const ts: CoreSpec = { btf: tb, rootTypeId: targId, kind: local.kind, spec: [], raw: [], bitOffset: 0 };
  if (isTypeRelo(local.kind)) {
    const ok =
      local.kind === CoreReloKind.TYPE_MATCHES
        ? coreTypesMatch(local.btf, local.rootTypeId, tb, targId)
        : coreTypesAreCompat(local.btf, local.rootTypeId, tb, targId);
    return ok ? ts : undefined;
  }
  if (isEnumvalRelo(local.kind)) {
    const { t, id } = skipModsAndTypedefs(tb, targId);
    if (!isAnyEnum(t)) return undefined;
    const want = essentialName(local.spec[0]!.name!);
    const values = (t as { values: { name: string }[] }).values;
    for (let i = 0; i < values.length; i++) {
      if (essentialName(values[i]!.name) === want) {
        ts.spec.push({ typeId: id, idx: i, name: values[i]!.name });
        ts.raw.push(i);
        return ts;
      }
    }
    return undefined;
  }
  let tid = targId;
  for (let i = 0; i < local.spec.length; i++) {
    const lacc = local.spec[i]!;
    const r = skipModsAndTypedefs(tb, tid);
    tid = r.id;
    if (lacc.name !== undefined) {
      const out = { next: 0 };
      if (!matchMember(local.btf, lacc, tb, tid, ts, out)) return undefined;
      tid = out.next;
    } else {
      if (i > 0) {
        if (r.t.kind !== BtfKind.ARRAY) return undefined;
        const flex = isFlexArr(tb, ts.spec[ts.spec.length - 1], r.t.nelems);
        if (!flex && lacc.idx >= r.t.nelems) return undefined;
        tid = tb.resolveId(r.t.type);
      }
      if (ts.raw.length === SPEC_MAX_LEN) throw new BtfError('CO-RE spec match: spec too long');
      ts.spec.push({ typeId: tid, idx: lacc.idx });
      ts.raw.push(lacc.idx);
      ts.bitOffset += lacc.idx * sizeOrThrow(tb, tid) * 8;
    }
  }
  return ts;
}

const POISON = Symbol('poison');

function calcField(kind: CoreReloKind, spec: CoreSpec | undefined): { val: bigint; size: number; typeId: number; validate: boolean } | typeof POISON {
  if (kind === CoreReloKind.FIELD_EXISTS) return { val: spec ? 1n : 0n, size: 0, typeId: 0, validate: true };
  if (!spec) return POISON;
  const btf = spec.btf;
  const acc = spec.spec[spec.spec.length - 1]!;
  if (acc.name === undefined) {
    // a[n]: only offset and size make sense
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      return { val: relocValue(spec.bitOffset / 8, btf, acc.typeId, 'byte offset'), size: btf.sizeof(acc.typeId), typeId: acc.typeId, validate: true };
    }
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return { val: relocValue(btf.sizeof(acc.typeId), btf, acc.typeId, 'byte size'), size: 0, typeId: 0, validate: true };
    throw new BtfError(`CO-RE relocation ${coreReloKindName(kind)} cannot be applied to an array element`);
  }
  const t = btf.typeById(acc.typeId) as { members: { type: number; bitfieldSize: number }[] };
  const m = t.members[acc.idx]!;
  const { t: mt, id: fieldTypeId } = skipModsAndTypedefs(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = (mt as { size?: number }).size ?? 0;
    if (!(byteSz > 0) || !Number.isInteger(bitOff)) {
      throw new BtfError(`CO-RE: bitfield '${(m as { name?: string }).name ?? acc.name}' of ${typeName(btf, acc.typeId)} has no readable layout (its type ${BtfKind[mt.kind]} has no size, or its offset is not a number)`);
    }
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    // the smallest load that covers the bitfield
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new BtfError(`CO-RE: bitfield at bit ${bitOff} (${bitSz} bits) cannot be read with a 64-bit load`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.sizeof(fieldTypeId);
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  let validate = !bitfield; // the compiler's bitfield load choices may differ from ours
  let size = 0;
  let typeId = 0;
  let val: number;
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      val = byteOff;
      if (!bitfield) {
        size = byteSz;
        typeId = fieldTypeId;
      }
      break;
    case CoreReloKind.FIELD_BYTE_SIZE:
      val = byteSz;
      break;
    case CoreReloKind.FIELD_SIGNED:
      val = (isAnyEnum(mt) && kflag(mt)) || (mt.kind === BtfKind.INT && (mt.encoding & BTF_INT_SIGNED) !== 0) ? 1 : 0;
      validate = true;
      break;
    case CoreReloKind.FIELD_LSHIFT_U64:
      val = btf.littleEndian ? 64 - (bitOff + bitSz - byteOff * 8) : (8 - byteSz) * 8 + (bitOff - byteOff * 8);
      break;
    case CoreReloKind.FIELD_RSHIFT_U64:
      val = 64 - bitSz;
      validate = true;
      break;
    default:
      throw new BtfError(`unknown field relocation kind ${kind}`);
  }
  return { val: relocValue(val, btf, acc.typeId, `field '${acc.name}'`), size, typeId, validate };
}

/** A relocation's value as the instruction takes it: malformed BTF (a size or offset that is not a number) is a BtfError naming the type. */
function relocValue(v: number, btf: Btf, typeId: number, what: string): bigint {
  if (!Number.isSafeInteger(v)) throw new BtfError(`CO-RE: ${what} of ${typeName(btf, typeId)} is ${v}, not an integer (malformed BTF)`);
  return BigInt(v);
}

function typeName(btf: Btf, typeId: number): string {
  try {
    const t = btf.typeById(typeId);
    return `${BtfKind[t.kind].toLowerCase()} ${t.name || `(anonymous, id ${typeId})`}`;
  } catch {
    return `type ${typeId}`;
  }
}

function calcType(kind: CoreReloKind, spec: CoreSpec | undefined): { val: bigint; validate: boolean } {
  if (!spec) return { val: 0n, validate: true }; // type relocations give 0 when the type is missing
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      return { val: BigInt(spec.rootTypeId), validate: false }; // ids change when objects are linked
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return { val: 1n, validate: true };
    case CoreReloKind.TYPE_SIZE:
      return { val: relocValue(spec.btf.sizeof(spec.rootTypeId), spec.btf, spec.rootTypeId, 'size'), validate: true };
    default:
      throw new BtfError(`unknown type relocation kind ${kind}`);
  }
}

function calcEnumval(kind: CoreReloKind, spec: CoreSpec | undefined): bigint | typeof POISON {
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return spec ? 1n : 0n;
  if (!spec) return POISON;
  const t = spec.btf.typeById(spec.spec[0]!.typeId);
  if (t.kind === BtfKind.ENUM) return BigInt(t.values[spec.spec[0]!.idx]!.value | 0); // s32, sign-extended as libbpf does
  if (t.kind === BtfKind.ENUM64) return BigInt.asUintN(64, t.values[spec.spec[0]!.idx]!.value);
  throw new BtfError('CO-RE enum value: target is not an enum');
}

function calcRelo(kind: CoreReloKind, local: CoreSpec, targ: CoreSpec | undefined): CalcResult {
  const r: CalcResult = { origValue: 0n, value: 0n, poison: false, validate: true, failMemszAdjust: false, origSize: 0, newSize: 0 };
  if (isFieldRelo(kind)) {
    const o = calcField(kind, local);
    if (o === POISON) throw new BtfError('local spec cannot be missing');
    const n = calcField(kind, targ);
    r.origValue = o.val;
    r.validate = o.validate;
    r.origSize = o.size;
    if (n === POISON) {
      r.poison = true;
      return r;
    }
    r.value = n.val;
    r.newSize = n.size;
    if (r.origSize !== r.newSize) {
      const ot = local.btf.typeById(o.typeId);
      const nt = targ!.btf.typeById(n.typeId);
      const unsignedInt = (t: BtfType) => t.kind === BtfKind.INT && t.encoding !== BTF_INT_SIGNED;
      // only pointers and unsigned integers survive a narrower or wider load (zero extension)
      if (!((ot.kind === BtfKind.PTR && nt.kind === BtfKind.PTR) || (unsignedInt(ot) && unsignedInt(nt)))) r.failMemszAdjust = true;
    }
  } else if (isTypeRelo(kind)) {
    const o = calcType(kind, local);
    r.origValue = o.val;
    r.validate = o.validate;
    r.value = calcType(kind, targ).val;
  } else {
    const o = calcEnumval(kind, local);
    if (o === POISON) throw new BtfError('local spec cannot be missing');
    r.origValue = o;
    const n = calcEnumval(kind, targ);
    if (n === POISON) r.poison = true;
    else r.value = n;
  }
  return r;
}

/** libbpf-style rendering: `<byte_off> [10] struct task_struct.pid (0:92 @ offset 1264)` */
export function formatCoreSpec(spec: CoreSpec): string {
  const btf = spec.btf;
  const t = btf.typeById(spec.rootTypeId);
  let s = `<${coreReloKindName(spec.kind)}> [${spec.rootTypeId}] ${kindWord(t)} ${t.name || '<anon>'}`;
  if (isTypeRelo(spec.kind)) return s;
  if (isEnumvalRelo(spec.kind)) {
    const e = btf.resolve(spec.rootTypeId);
    const idx = spec.raw[0] ?? spec.spec[0]?.idx ?? 0;
    if (e.kind === BtfKind.ENUM || e.kind === BtfKind.ENUM64) {
      const v = e.values[idx]!;
      s += `::${v.name} = ${e.kind === BtfKind.ENUM64 && !e.signed ? BigInt.asUintN(64, v.value as bigint) : v.value}`;
    }
    return s;
  }
  s += accessPath(spec);
  s += ` (${spec.raw.join(':')}`;
  s += spec.bitOffset % 8 ? ` @ offset ${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8})` : ` @ offset ${spec.bitOffset / 8})`;
  return s;
}

function kindWord(t: BtfType): string {
  return BtfKind[t.kind]!.toLowerCase();
}

function accessPath(spec: CoreSpec): string {
  let s = '';
  spec.spec.forEach((a, i) => {
    if (a.name !== undefined) s += `.${a.name}`;
    else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
  });
  return s;
}

/** The access as C-ish text: `sock::__sk_common.skc_daddr`, `task_struct::comm[2]`, `bpf_func_id::BPF_FUNC_x`, `struct task_struct`. */
export function coreAccessToC(btf: Btf, relo: Pick<CoreRelo, 'typeId' | 'accessStr' | 'kind'>): string {
  const t = btf.typeById(relo.typeId);
  const name = t.name || '<anon>';
  if (isTypeRelo(relo.kind)) return `${kindWord(t)} ${name}`;
  const spec = parseCoreSpec(btf, relo.typeId, relo.accessStr, relo.kind);
  if (isEnumvalRelo(relo.kind)) return `${name}::${spec.spec[0]!.name}`;
  const first = spec.spec[0]!.idx > 0 ? `[${spec.spec[0]!.idx}]` : '';
  const rest = spec.spec
    .slice(1)
    .map((a) => (a.name !== undefined ? `.${a.name}` : `[${a.idx}]`))
    .join('');
  return `${name}${first}::${rest.startsWith('.') ? rest.slice(1) : rest}`;
}

/**
 * Target types whose essential name is the local type's and whose kind can match: the exact name
 * plus flavored names (`task_struct___x`), both found through the BTF's name lookup (no full scan
 * of a kernel's types).
 */
export function coreCandidates(target: Btf, local: BtfType): number[] {
  const e = essentialName(local.name);
  if (!e) return []; // an anonymous type has no candidates by name
  const flavored = target.findAllByNamePrefix(e + '___').filter((t) => essentialName(t.name) === e);
  const types = [...target.findAllByName(e), ...flavored];
  return types.filter((t) => kindCoreCompat(t, local)).map((t) => t.id).sort((a, b) => a - b);
}

/** A candidate: a type id in one of the target BTFs. */
interface Cand {
  btf: Btf;
  id: number;
}

/** libbpf's search order: vmlinux first; module BTFs (their own types) only if vmlinux has no candidate. */
function findCands(targets: readonly Btf[], local: BtfType): Cand[] {
  const [vmlinux, ...modules] = targets;
  if (!vmlinux) return [];
  const out: Cand[] = coreCandidates(vmlinux, local).map((id) => ({ btf: vmlinux, id }));
  if (out.length) return out;
  for (const m of modules) for (const id of coreCandidates(m, local)) if (id >= m.startId) out.push({ btf: m, id });
  return out;
}

/**
 * Resolve one CO-RE relocation of an object (local BTF) against the kernel's BTF: vmlinux, or
 * [vmlinux, ...module BTFs (split on vmlinux)]. ok:false means the instruction must be poisoned
 * (libbpf would); malformed relocations and ambiguous candidates, which make libbpf refuse the whole
 * object, throw BtfError.
 */
export function resolveCoreRelo(local: Btf, relo: Pick<CoreRelo, 'typeId' | 'accessStr' | 'kind'>, target: Btf | readonly Btf[]): CoreResult {
  const targets: readonly Btf[] = Array.isArray(target) ? target : [target as Btf];
  const localType = local.typeById(relo.typeId);
  const lspec = parseCoreSpec(local, relo.typeId, relo.accessStr, relo.kind);
  const localStr = formatCoreSpec(lspec);
  if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
    const v = relo.typeId;
    return { ok: true, value: v, origValue: v, validate: false, origSize: 0, newSize: 0, failMemszAdjust: false, local: localStr };
  }
  if (!localType.name) {
    throw new BtfError(`CO-RE relocation ${localStr}: candidate search needs a named type (anonymous types are not supported)`);
  }
  let res: CalcResult | undefined;
  let tspec: CoreSpec | undefined;
  const cands = findCands(targets, localType);
  for (const { btf: cbtf, id: cid } of cands) {
    const cs = matchCoreSpec(lspec, cbtf, cid);
    if (!cs) continue;
    const cr = calcRelo(relo.kind, lspec, cs);
    if (!res) {
      res = cr;
      tspec = cs;
    } else if (cs.bitOffset !== tspec!.bitOffset) {
      throw new BtfError(`CO-RE relocation ${localStr}: field offset ambiguity between candidates [${tspec!.rootTypeId}] and [${cid}]: ${tspec!.bitOffset} != ${cs.bitOffset} bits`);
    } else if (cr.poison !== res.poison || cr.value !== res.value) {
      throw new BtfError(`CO-RE relocation ${localStr}: candidates [${tspec!.rootTypeId}] and [${cid}] disagree: ${res.value} != ${cr.value}`);
    }
  }
  if (!res) res = calcRelo(relo.kind, lspec, undefined);
  if (res.poison) {
    return { ok: false, local: localStr, reason: explainMiss(lspec, localType, cands.length) };
  }
  return {
    ok: true,
    value: toResultValue(res.value, relo.kind),
    origValue: toResultValue(res.origValue, relo.kind),
    validate: res.validate,
    origSize: res.origSize,
    newSize: res.newSize,
    failMemszAdjust: res.failMemszAdjust,
    local: localStr,
    target: tspec ? formatCoreSpec(tspec) : undefined,
    targetTypeId: tspec?.rootTypeId,
    targetBtf: tspec?.btf,
  };
}

function toResultValue(v: bigint, kind: CoreReloKind): number | bigint {
  if (kind === CoreReloKind.ENUMVAL_VALUE) {
    const s = BigInt.asIntN(64, v);
    return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : v;
  }
  return Number(v);
}

function explainMiss(lspec: CoreSpec, localType: BtfType, ncands: number): string {
  const access = coreAccessToC(lspec.btf, { typeId: lspec.rootTypeId, accessStr: lspec.raw.join(':') || '0', kind: lspec.kind });
  const what = `${kindWord(localType)} ${essentialName(localType.name)}`;
  if (!ncands) return `${access}: the target has no ${what}`;
  if (isEnumvalRelo(lspec.kind)) return `${access}: ${what} in the target has no enumerator ${essentialName(lspec.spec[0]!.name!)}`;
  const field = lspec.spec.filter((a) => a.name !== undefined).map((a) => a.name).join('.');
  return `${access}: no ${what} in the target has a compatible field ${field} (${ncands} candidate${ncands > 1 ? 's' : ''} checked)`;
}
