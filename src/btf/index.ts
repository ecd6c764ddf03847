// BTF: parse, model, build/marshal, .BTF.ext, C/raw dumps, value codec, CO-RE. Pure: bytes in, values out.
export { BtfError } from './error.js';
export * from './types.js';
export { Btf, type TypeSource, type StringTable } from './btf.js';
export { parseBtf, parseBtfHeader, type BtfHeader } from './parse.js';
export { marshalBtf, marshalBtfWithStrings, BtfBuilder, type FieldSpec } from './marshal.js';
export { parseBtfExt, CoreReloKind, type BtfExt, type FuncInfo, type LineInfo, type CoreRelo } from './ext.js';
export { btfToC, cTypeDecl, type CDumpOptions } from './cdump.js';
export { btfToRaw, rawTypeLine } from './dump-raw.js';
export { compileCodec, enumName, type Codec } from './codec.js';
export {
  resolveCoreRelo,
  coreAccessToC,
  coreReloKindName,
  essentialName,
  formatCoreSpec,
  parseCoreSpec,
  matchCoreSpec,
  coreCandidates,
  coreTypesAreCompat,
  coreTypesMatch,
  type CoreResult,
  type CoreSpec,
  type CoreAccessor,
} from './core.js';
export { applyCoreRelo, CORE_POISON_IMM, type CorePatch } from './core-patch.js';
export { fieldLayout, type FieldLayout } from './layout.js';
