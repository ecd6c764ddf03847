// The BTF type model: one plain object per type record of include/uapi/linux/btf.h.
// Type ids index Btf.types; id 0 is void. References between types are ids (numbers), never objects,
// so a model can be cyclic (struct list_head) and still be plain data.

/** BTF_KIND_* */
export enum BtfKind {
  UNKN = 0,
  INT = 1,
  PTR = 2,
  ARRAY = 3,
  STRUCT = 4,
  UNION = 5,
  ENUM = 6,
  FWD = 7,
  TYPEDEF = 8,
  VOLATILE = 9,
  CONST = 10,
  RESTRICT = 11,
  FUNC = 12,
  FUNC_PROTO = 13,
  VAR = 14,
  DATASEC = 15,
  FLOAT = 16,
  DECL_TAG = 17,
  TYPE_TAG = 18,
  ENUM64 = 19,
}
export const BTF_KIND_MAX = BtfKind.ENUM64;

/** BTF_INT_ENCODING bits of an INT */
export const BTF_INT_SIGNED = 1 << 0;
export const BTF_INT_CHAR = 1 << 1;
export const BTF_INT_BOOL = 1 << 2;

/** BTF_MAGIC and the version this code reads and writes */
export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;

/** enum btf_func_linkage (FUNC vlen) */
export enum BtfFuncLinkage {
  STATIC = 0,
  GLOBAL = 1,
  EXTERN = 2,
}

/** BTF_VAR_* linkage of a VAR */
export enum BtfVarLinkage {
  STATIC = 0,
  GLOBAL_ALLOCATED = 1,
  GLOBAL_EXTERN = 2,
}

/** Fields every type has. `name` is '' for anonymous types. */
interface BtfTypeBase {
  /** type id in its Btf (0 = void) */
  id: number;
  name: string;
}

export interface BtfVoid extends BtfTypeBase {
  kind: BtfKind.UNKN;
}

export interface BtfInt extends BtfTypeBase {
  kind: BtfKind.INT;
  /** bytes */
  size: number;
  /** BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL */
  encoding: number;
  /** BTF_INT_OFFSET: bit offset of the value inside `size` bytes (0 in practice) */
  bitOffset: number;
  /** BTF_INT_BITS: number of value bits */
  bits: number;
}

export interface BtfPtr extends BtfTypeBase {
  kind: BtfKind.PTR;
  type: number;
}

export interface BtfArray extends BtfTypeBase {
  kind: BtfKind.ARRAY;
  /** element type */
  type: number;
  indexType: number;
  nelems: number;
}

export interface BtfMember {
  name: string;
  type: number;
  /** offset of the member from the start of the struct, in bits */
  bitOffset: number;
  /** bitfield width in bits; 0 = not a bitfield */
  bitfieldSize: number;
}

export interface BtfComposite extends BtfTypeBase {
  kind: BtfKind.STRUCT | BtfKind.UNION;
  size: number;
  members: BtfMember[];
  /** kind_flag: member offsets are encoded as bitfield_size<<24 | bit_offset */
  kindFlag: boolean;
}

export interface BtfEnumValue<V = number> {
  name: string;
  value: V;
}

export interface BtfEnum extends BtfTypeBase {
  kind: BtfKind.ENUM;
  size: number;
  /** kind_flag: values are signed */
  signed: boolean;
  /** values as JS numbers: signed or unsigned 32-bit according to `signed` */
  values: BtfEnumValue<number>[];
}

export interface BtfEnum64 extends BtfTypeBase {
  kind: BtfKind.ENUM64;
  size: number;
  signed: boolean;
  /** 64-bit values, signed or unsigned according to `signed` */
  values: BtfEnumValue<bigint>[];
}

export interface BtfFwd extends BtfTypeBase {
  kind: BtfKind.FWD;
  /** kind_flag: forward declaration of a union (else struct) */
  union: boolean;
}

export interface BtfTypedef extends BtfTypeBase {
  kind: BtfKind.TYPEDEF;
  type: number;
}

/** const, volatile, restrict */
export interface BtfModifier extends BtfTypeBase {
  kind: BtfKind.VOLATILE | BtfKind.CONST | BtfKind.RESTRICT;
  type: number;
}

export interface BtfTypeTag extends BtfTypeBase {
  kind: BtfKind.TYPE_TAG;
  type: number;
  /** kind_flag: the tag is an __attribute__ rather than btf_type_tag (newer kernels) */
  kindFlag: boolean;
}

export interface BtfFunc extends BtfTypeBase {
  kind: BtfKind.FUNC;
  /** FUNC_PROTO id */
  type: number;
  linkage: BtfFuncLinkage;
}

export interface BtfParam {
  name: string;
  /** 0 with name '' as the last param = variadic (...) */
  type: number;
}

export interface BtfFuncProto extends BtfTypeBase {
  kind: BtfKind.FUNC_PROTO;
  /** return type (0 = void) */
  returnType: number;
  params: BtfParam[];
}

export interface BtfVar extends BtfTypeBase {
  kind: BtfKind.VAR;
  type: number;
  linkage: BtfVarLinkage;
}

export interface BtfVarSecinfo {
  /** VAR (or FUNC for extern ksyms) id */
  type: number;
  offset: number;
  size: number;
}

export interface BtfDatasec extends BtfTypeBase {
  kind: BtfKind.DATASEC;
  size: number;
  vars: BtfVarSecinfo[];
}

export interface BtfFloat extends BtfTypeBase {
  kind: BtfKind.FLOAT;
  size: number;
}

export interface BtfDeclTag extends BtfTypeBase {
  kind: BtfKind.DECL_TAG;
  /** tagged type, or the struct/union/func whose component is tagged */
  type: number;
  /** -1: the type itself; else member / param index */
  componentIdx: number;
  /** kind_flag: the tag is an __attribute__ rather than btf_decl_tag (newer kernels) */
  kindFlag: boolean;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfFwd
  | BtfTypedef
  | BtfModifier
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag
  | BtfTypeTag
  | BtfEnum64;

/** A type as given to the builder: everything but the id, which the builder assigns. */
export type BtfTypeInit = BtfType extends infer T ? (T extends BtfType ? Omit<T, 'id'> : never) : never;

/** The BTF_KIND_* name without prefix, as bpftool prints it ('INT', 'FUNC_PROTO', ...). */
export function kindName(kind: BtfKind): string {
  return BtfKind[kind] ?? `UNKNOWN_KIND_${kind}`;
}

/** Kinds that only qualify another type (skipped by Btf.resolve). */
export function isQualifier(kind: BtfKind): boolean {
  return (
    kind === BtfKind.TYPEDEF ||
    kind === BtfKind.CONST ||
    kind === BtfKind.VOLATILE ||
    kind === BtfKind.RESTRICT ||
    kind === BtfKind.TYPE_TAG
  );
}

export function isComposite(t: BtfType): t is BtfComposite {
  return t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION;
}

export function isEnum(t: BtfType): t is BtfEnum | BtfEnum64 {
  return t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64;
}
