// A type's name as bpftrace 0.17 prints it in `-lv` listings of uprobe arguments: the C name with the
// pointer star glued to it (`const char*`, `struct point*`), typedefs by their own name, base types as
// the compiler named them (gcc's `short int`, clang's `short`). bpftrace names only base, struct,
// union, enum, typedef, pointer and const types; the rest (volatile, function types, ...) it prints as
// `<unknown type>`, and so does this, to list what it lists.
import { DwTag } from './constants.js';
import { DwarfError } from './cursor.js';
import { nameOf, typeOf } from './functions.js';
import type { Die, Dwarf } from './info.js';

const MAX_DEPTH = 64;
const UNKNOWN = '<unknown type>';

export function typeNameOf(dwarf: Dwarf, die: Die | undefined, depth = 0): string {
  if (!die) return 'void';
  if (depth > MAX_DEPTH) throw new DwarfError(`.debug_info: the type at 0x${die.offset.toString(16)} is nested too deeply (a loop?)`);
  const inner = (): string => typeNameOf(dwarf, typeOf(dwarf, die), depth + 1);
  const name = nameOf(dwarf, die) ?? '';
  switch (die.tag) {
    case DwTag.pointer_type: return `${inner()}*`;
    case DwTag.const_type: return `const ${inner()}`;
    case DwTag.structure_type: return `struct ${name}`;
    case DwTag.class_type: return `class ${name}`;
    case DwTag.union_type: return `union ${name}`;
    case DwTag.enumeration_type: return `enum ${name}`;
    case DwTag.base_type: case DwTag.typedef: return name;
    default: return UNKNOWN;
  }
}
