// A DWARF reader (versions 2 to 5, as gcc and clang emit them): units, entries, functions and their
// parameters, and the types those reach converted to BTF.
export { DwarfError } from './cursor.js';
export { Dwarf, type Die, type DwarfUnit, type DwarfSections, type AttrValue } from './info.js';
export { parseAbbrevTable, type Abbrev, type AbbrevAttr } from './abbrev.js';
export { dwarfFunctions, attr, typeOf, nameOf, type DwarfFunction, type DwarfParam } from './functions.js';
export { dwarfToBtf } from './to-btf.js';
export { dwarfOfElf, ELFCOMPRESS_ZLIB, ELFCOMPRESS_ZSTD, type Decompress } from './elf.js';
export { typeNameOf } from './type-name.js';
export * from './constants.js';
