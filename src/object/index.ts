// The object layer's public surface: clang-built BPF ELF objects → CollectionSpec.
export { parseObject } from './load-spec.js';
export {
  ObjectError, type CollectionSpec, type ProgramSpec, type MapSpec, type KsymRef, type ExternSpec,
  type MapSlotInit, type MapOrigin, type ProgramFuncInfo, type ProgramLineInfo, type ProgramCoreRelo, type PoisonedInsn,
} from './spec.js';
export {
  sectionInfo, knownSections, parseKprobeTarget, parseUprobeTarget, parseUsdtTarget, attachBtfName,
  type AttachKind, type SectionInfo,
} from './sections.js';
export { resolveExterns, parseKconfig, type ExternValues } from './externs.js';
export { applyCoRe, poisonReason, POISON_IMM, POISON_VERIFIER_MESSAGE } from './core.js';
export { btfForKernel, kernelBtf } from './btf-fixup.js';
export { resolveKsyms, POISON_CALL_KFUNC_BASE, type KsymOptions } from './ksyms.js';
export { objectName, internalMapName } from './names.js';
export { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, LIBBPF_PIN_BY_NAME, LIBBPF_PIN_NONE } from './maps.js';
export { programSpec, mapSpec, collectionSpec, lineInfoOf, type CompiledProgram, type CompiledMap } from './compiled.js';
