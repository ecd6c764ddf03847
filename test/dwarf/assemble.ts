// DWARF written byte by byte for the malformed-input tests: abbreviation tables, unit headers (32-bit
// DWARF, version 4 or 5) and entries, so that each test breaks exactly one thing.
import { DwForm } from '../../src/dwarf/constants.js';

export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
export const u16 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
export const u32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
export const cstr = (s: string): number[] => [...new TextEncoder().encode(s), 0];

export interface AbbrevSpec {
  code: number;
  tag: number;
  children: boolean;
  attrs: [name: number, form: number][];
}

export function abbrevs(list: AbbrevSpec[]): Uint8Array {
  const out: number[] = [];
  for (const a of list) {
    out.push(...uleb(a.code), ...uleb(a.tag), a.children ? 1 : 0);
    for (const [n, f] of a.attrs) out.push(...uleb(n), ...uleb(f));
    out.push(0, 0);
  }
  out.push(0);
  return new Uint8Array(out);
}

/** One unit: its header (version 5: unit type compile) and the entries' bytes. */
export function unit(body: number[], version = 5, abbrevOffset = 0): number[] {
  const header = version >= 5 ? [...u16(version), 0x01, 8, ...u32(abbrevOffset)] : [...u16(version), ...u32(abbrevOffset), 8];
  return [...u32(header.length + body.length), ...header, ...body];
}

export const FORM = DwForm;
