// ELF64 little-endian reading: objects, executables and shared libraries.
export { parseElf, ElfFile, isSpecialSection, type ElfSection, type ElfSegment, type ElfSymbol, type ElfRelocation, type ElfNote } from './reader.js';
export { ElfError } from './error.js';
export { symbolOffset, functionSymbols, splitVersion, addressToOffset, vaddrToOffset, type VersionedSymbol } from './symbols.js';
export { usdtProbes, NT_STAPSDT, type UsdtProbe } from './usdt.js';
export { buildId, NT_GNU_BUILD_ID } from './build-id.js';
export { ElfIndex, type ReadAt } from './symbol-lookup.js';
