// .debug_abbrev (DWARF 5 section 7.5.3): each table maps abbreviation codes to a tag, whether the
// entry has children, and its attributes' names and forms. A unit header says where its table starts.
import { DwForm } from './constants.js';
import { Cursor, DwarfError } from './cursor.js';

export interface AbbrevAttr {
  name: number;
  form: number;
  /** DW_FORM_implicit_const: the value is here, not in .debug_info */
  implicitConst?: number;
}

export interface Abbrev {
  code: number;
  tag: number;
  children: boolean;
  attrs: AbbrevAttr[];
}

/** The abbreviation table at `offset` of .debug_abbrev. */
export function parseAbbrevTable(section: Uint8Array, offset: number): Map<number, Abbrev> {
  if (offset >= section.length) throw new DwarfError(`.debug_abbrev: table offset 0x${offset.toString(16)} is past the section's end (${section.length} bytes)`);
  const c = new Cursor(section, offset, section.length, '.debug_abbrev');
  const table = new Map<number, Abbrev>();
  for (;;) {
    const code = c.uleb();
    if (code === 0) return table;
    const tag = c.uleb();
    const children = c.u8();
    if (children > 1) throw new DwarfError(`.debug_abbrev: abbreviation ${code} has children flag ${children} (0 or 1)`);
    const attrs: AbbrevAttr[] = [];
    for (;;) {
      const name = c.uleb();
      const form = c.uleb();
      if (name === 0 && form === 0) break;
      if (name === 0 || form === 0) throw new DwarfError(`.debug_abbrev: abbreviation ${code} has an attribute with name 0x${name.toString(16)} and form 0x${form.toString(16)}`);
      attrs.push(form === DwForm.implicit_const ? { name, form, implicitConst: c.sleb() } : { name, form });
    }
    if (table.has(code)) throw new DwarfError(`.debug_abbrev: abbreviation code ${code} is defined twice in the table at 0x${offset.toString(16)}`);
    table.set(code, { code, tag, children: children === 1, attrs });
  }
}
