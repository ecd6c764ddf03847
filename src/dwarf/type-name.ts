// A type's name as bpftrace 0.17 prints it in `-lv` listings of uprobe arguments: the C name with the
// pointer star glued to it (`const char*`, `struct point*`), typedefs by their own name, base types as
// the compiler named them (gcc's `short int`, clang's `short`).
import { DwAt, DwTag } from './constants.js';
import { DwarfError } from './cursor.js';
import { nameOf, typeOf } from './functions.js';
import type { Die, Dwarf } from './info.js';

const MAX_DEPTH = 64;

export function typeNameOf(dwarf: Dwarf, die: Die | undefined, depth = 0): string {
  if (!die) return 'void';
  if (depth > MAX_DEPTH) throw new DwarfError(`.debug_info: the type at 0x${die.offset.toString(16)} is nested too deeply (a loop?)`);
  const inner = (): string => typeNameOf(dwarf, typeOf(dwarf, die), depth + 1);
  const name = nameOf(dwarf, die) ?? '';
  switch (die.tag) {
    case DwTag.pointer_type: return `${inner()}*`;
    case DwTag.reference_type: return `${inner()}&`;
    case DwTag.rvalue_reference_type: return `${inner()}&&`;
    case DwTag.const_type: return `const ${inner()}`;
    case DwTag.volatile_type: return `volatile ${inner()}`;
    case DwTag.restrict_type: return `${inner()} restrict`;
    case DwTag.atomic_type: return `_Atomic ${inner()}`;
    case DwTag.structure_type: return `struct ${name}`;
    case DwTag.class_type: return `class ${name}`;
    case DwTag.union_type: return `union ${name}`;
    case DwTag.enumeration_type: return `enum ${name}`;
    case DwTag.array_type: {
      const dims = die.children.filter((s) => s.tag === DwTag.subrange_type).map((s) => {
        const c = s.attrs.get(DwAt.count) ?? (typeof s.attrs.get(DwAt.upper_bound) === 'number' ? (s.attrs.get(DwAt.upper_bound) as number) + 1 : '');
        return `[${String(c)}]`;
      });
      return `${inner()}${dims.join('')}`;
    }
    case DwTag.subroutine_type: return `${inner()} (*)(...)`;
    default: return name || 'void';
  }
}
