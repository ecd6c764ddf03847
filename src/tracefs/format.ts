// The record layout of a tracepoint, parsed from the text of tracefs's events/CAT/NAME/format.
// Pure: takes the text. (Field lines look like
//   "field:unsigned short common_type;	offset:0;	size:2;	signed:0;")

export interface TracepointField {
  name: string;
  /** the C type as written, without the field name and array bounds: `const char *`, `__u8` */
  ctype: string;
  offset: number;
  size: number;
  signed: boolean;
  /** element count for `name[N]` fields */
  arrayLen?: number;
  /** `__data_loc` fields: a u32 (len << 16 | offset) pointing into the record */
  dataLoc: boolean;
  /** the type is a pointer */
  pointer: boolean;
}

export interface TracepointFormat {
  name: string;
  id: number;
  /** fields after the common_* header */
  fields: TracepointField[];
  /** every field, common_* included */
  allFields: TracepointField[];
  /** the print fmt line, if present */
  printFmt?: string;
}

export class TracepointFormatError extends Error {}

const FIELD_RE = /^\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

/** Parse a format file. Throws TracepointFormatError on text that is not one. */
export function parseTracepointFormat(text: string): TracepointFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1];
  const id = /^ID:\s*(\d+)/m.exec(text)?.[1];
  if (!name || !id) throw new TracepointFormatError('not a tracepoint format file (no name:/ID: lines)');
  const allFields: TracepointField[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('field:')) continue;
    const m = FIELD_RE.exec(line);
    if (!m) throw new TracepointFormatError(`bad field line: ${line.trim().slice(0, 200)}`);
    allFields.push(parseDecl(m[1]!.trim(), Number(m[2]), Number(m[3]), m[4] === '1'));
  }
  const printFmt = /^print fmt:\s*(.*)$/m.exec(text)?.[1];
  return { name, id: Number(id), allFields, fields: allFields.filter((f) => !f.name.startsWith('common_')), printFmt };
}

/** `__data_loc char[] name`, `const char * filename`, `__u8 daddr[4]`, `unsigned long args[6]` */
function parseDecl(decl: string, offset: number, size: number, signed: boolean): TracepointField {
  let d = decl;
  const dataLoc = d.startsWith('__data_loc ');
  if (dataLoc) d = d.slice('__data_loc '.length);
  let arrayLen: number | undefined;
  const arr = /\[(\d*)\]\s*$/.exec(d);
  if (arr) {
    d = d.slice(0, arr.index).trim();
    if (arr[1]) arrayLen = Number(arr[1]);
  }
  // `char[] name` (data_loc) puts the brackets on the type.
  d = d.replace(/\[\d*\]/, ' ');
  const nm = /([A-Za-z_]\w*)\s*$/.exec(d);
  if (!nm) throw new TracepointFormatError(`bad field declaration: ${decl.slice(0, 200)}`);
  const ctype = d.slice(0, nm.index).trim().replace(/\s+/g, ' ');
  if (!ctype) throw new TracepointFormatError(`field without a type: ${decl.slice(0, 200)}`);
  return { name: nm[1]!, ctype, offset, size, signed, arrayLen, dataLoc, pointer: ctype.endsWith('*') };
}
