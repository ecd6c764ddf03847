// The object layer's output: a CollectionSpec describes every program and map of one ELF object,
// linked and relocated but not loaded. The loader (src/kernel) turns it into fds; the vm runs it.
import type { Instruction } from '../isa/instruction.js';
import type { MapReference } from '../isa/relocation.js';
import type { Btf } from '../btf/btf.js';
import type { BtfExt, CoreReloKind, FuncInfo, LineInfo } from '../btf/ext.js';
import type { AttachType, MapType, ProgramType } from '../uapi/bpf.js';
import type { AttachKind } from './sections.js';

/** Malformed or unsupported object contents (the ELF itself parsed). */
export class ObjectError extends Error {
  override name = 'ObjectError';
}

/** A reference to a kernel symbol (.ksyms extern) the loader resolves to a kernel BTF id. */
export interface KsymRef {
  slot: number;
  name: string;
  /**
   * 'var': lddw src=BPF_PSEUDO_BTF_ID of a kernel variable; 'func': a kfunc, either a call with
   * src=BPF_PSEUDO_KFUNC_CALL or (its address, `if (kfunc)` checks of __weak kfuncs) an lddw with
   * src=BPF_PSEUDO_BTF_ID. resolveKsyms (ksyms.ts) writes the kernel BTF ids, zeroes unresolved
   * __weak references and poisons calls to unresolved __weak kfuncs, as libbpf does.
   */
  kind: 'var' | 'func';
  /** typed ksym: the extern's BTF type in the object's BTF (0 for typeless `const void` ksyms) */
  typeId: number;
  weak: boolean;
}

/** struct bpf_func_info, with insnOff in instruction slots of the linked program (what the kernel takes). */
export type ProgramFuncInfo = FuncInfo;

/** struct bpf_line_info in slots of the linked program, with its strings resolved. */
export type ProgramLineInfo = LineInfo;

/** A CO-RE relocation at a slot of the linked program. */
export interface ProgramCoreRelo {
  insnOff: number;
  typeId: number;
  accessStr: string;
  kind: CoreReloKind;
}

/** A CO-RE relocation that could not be resolved: its instruction was replaced by `call 0xbad2310`. */
export interface PoisonedInsn {
  slot: number;
  reason: string;
}

export interface ProgramSpec {
  /** the function's name (what libbpf calls the program name) */
  name: string;
  /** ELF section (SEC() name), as written (with a leading '?' if any) */
  section: string;
  /** false for SEC("?...") programs: libbpf does not load them unless asked */
  autoload: boolean;
  type: ProgramType;
  expectedAttachType: AttachType;
  attach: { kind: AttachKind; target: string };
  sleepable: boolean;
  xdpFrags: boolean;
  /** needs attach_btf_id from kernel BTF; see attachBtfName() */
  attachBtf: boolean;
  /** the program followed by every subprogram it calls, calls fixed up */
  instructions: Instruction[];
  license: string;
  kernelVersion: number;
  /** lddw's of maps (MapSpec.name), applied by the loader: applyMapReferences */
  mapRefs: MapReference[];
  ksymRefs: KsymRef[];
  funcInfo: ProgramFuncInfo[];
  lineInfo: ProgramLineInfo[];
  coreRelos: ProgramCoreRelo[];
  /** filled by applyCoRe */
  poisoned: PoisonedInsn[];
  /** names of the subprograms appended, in order, with their first slot */
  subprograms: { name: string; slot: number }[];
  /** BTF FUNC type id of the program's function (0 without BTF) */
  btfFuncId: number;
}

/** One initial element of a prog array / map-of-maps (`__array(values, ...)` initialisers). */
export interface MapSlotInit {
  index: number;
  /** ProgramSpec.name (prog arrays) or MapSpec.name (maps of maps) */
  value: string;
}

/** Where a map came from (`compiler`: made by a compiler, with no ELF behind it). */
export type MapOrigin = 'btf' | 'legacy' | 'data' | 'rodata' | 'bss' | 'kconfig' | 'ksyms' | 'compiler';

export interface MapSpec {
  /** the name libbpf gives it (and the kernel sees, max 15 chars): `counts`, `tcpconne.rodata` */
  name: string;
  /** the ELF section it came from: `.maps`, `maps`, `.rodata`, `.data.custom`, `.kconfig` */
  section: string;
  origin: MapOrigin;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  /** 0 none, 1 LIBBPF_PIN_BY_NAME */
  pinning: number;
  mapExtra: bigint;
  /** BTF type ids in the object's BTF; 0 = none */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** the map-in-map's inner map definition */
  innerMap?: MapSpec;
  /** `__array(values, ...)` initial entries */
  initSlots: MapSlotInit[];
  /** initial value of global data maps (one element), mutable: resolveExterns writes .kconfig here */
  contents?: Uint8Array;
  /** freeze after filling (read-only data: .rodata, .kconfig) */
  frozen: boolean;
}

/** An extern the object declares (`extern ... __kconfig` / `__ksym`). */
export interface ExternSpec {
  name: string;
  kind: 'kconfig' | 'ksym';
  weak: boolean;
  /** VAR (kconfig, ksym var) or FUNC (kfunc) type id in the object's BTF */
  btfId: number;
  /** a kernel function (kfunc) rather than a variable */
  func: boolean;
  /** kconfig: how libbpf classifies the value type */
  kconfigType?: 'bool' | 'tristate' | 'char' | 'int' | 'char_array' | 'unknown';
  /** kconfig: byte size, alignment, signedness and offset in the .kconfig map */
  size: number;
  align: number;
  signed: boolean;
  offset: number;
}

export interface CollectionSpec {
  /** object name (file name up to the first '.'), used for internal map names */
  name: string;
  programs: ProgramSpec[];
  maps: MapSpec[];
  externs: ExternSpec[];
  license: string;
  kernelVersion: number;
  /** the object's .BTF, parsed */
  btf?: Btf;
  /** the object's .BTF.ext, parsed (section-relative, byte offsets) */
  btfExt?: BtfExt;
  /** raw .BTF bytes, for btfForKernel */
  btfBytes?: Uint8Array;
  /** ELF facts btfForKernel needs: section sizes, symbol offsets, symbols of hidden visibility */
  dataSections: Map<string, { size: number; symbols: Map<string, number>; hidden: Set<string> }>;
  /** global functions of hidden visibility (`__hidden`): libbpf gives them static BTF linkage */
  hiddenFunctions: Set<string>;
}
