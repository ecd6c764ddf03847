// Where a uprobe goes, as bpftrace finds it: the file (a path, relative ones from the current
// directory; a library name through the loader's cache; a program name on PATH) and the file offset
// of `function`, `function+offset` (inside the function, or an error naming its size) or an address
// (inside some function, or "Could not resolve address").
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { buildId } from '../elf/build-id.js';
import { resolveLibrary } from '../link/kprobe.js';
import type { ElfFile } from '../elf/reader.js';
import { parseElf } from '../elf/reader.js';
import type { Btf } from '../btf/btf.js';
import { dwarfOfElf, dwarfFunctions, typeNameOf, ELFCOMPRESS_ZLIB, type Dwarf, type DwarfFunction } from '../dwarf/index.js';
import { dwarfToBtf } from '../dwarf/to-btf.js';

type Elf = typeof import('../elf/reader.js') & typeof import('../elf/symbols.js');

/** A uprobe target: a path (relative ones from the current directory), a program on PATH, or a library name (`libc`, through the loader's cache). */
export function uprobeFile(p: string): string {
  if (p.includes('/')) return resolve(p);
  // a program on PATH first (bpftrace's order: `python3.11` is the program, not libpython3.11.so)
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      const b = readFileSync(`${dir}/${p}`).subarray(0, 4);
      if (b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return `${dir}/${p}`;
    } catch {
      /* not here */
    }
  }
  try {
    return resolveLibrary(p);
  } catch {
    return p;
  }
}

export class UprobeTargetError extends Error {}

const elfCache = new Map<string, ElfFile>();

function elfOf(path: string, elf: Elf): ElfFile {
  let f = elfCache.get(path);
  if (!f) elfCache.set(path, (f = elf.parseElf(new Uint8Array(readFileSync(path)))));
  return f;
}

/** The file offset of a uprobe's function, null when the file has no such function (left out, as bpftrace does). */
export function uprobeFileOffset(path: string, func: string, elf: Elf): number | null {
  const file = uprobeFile(path);
  if (/^0x[0-9a-f]+$|^\d+$/i.test(func)) {
    const addr = BigInt(func);
    const f = elfOf(file, elf);
    const inside = elf.functionSymbols(f).find((s) => s.value <= addr && addr < s.value + BigInt(s.size));
    const off = inside ? elf.vaddrToOffset(f, addr) : undefined;
    if (off === undefined) throw new UprobeTargetError(`Could not resolve address: ${path}:0x${addr.toString(16)}`);
    return off;
  }
  const m = /^(.+)\+(0x[0-9a-f]+|\d+)$/i.exec(func);
  const name = m ? m[1]! : func;
  let base: number;
  try {
    base = elf.symbolOffset(elfOf(file, elf), name);
  } catch (e) {
    if ((e as Error).name === 'ElfError' || /not found/.test((e as Error).message)) return null;
    throw e;
  }
  if (!m) return base;
  const off = Number(m[2]);
  const sym = elf.functionSymbols(elfOf(file, elf)).find((s) => s.name === name || s.name.startsWith(`${name}@`));
  if (sym && off >= Number(sym.size)) throw new UprobeTargetError(`Offset outside the function bounds ('${name}' size is ${sym.size})`);
  return base + off;
}

/** Function symbols of a file matching a pattern, as `uprobe:PATH:NAME` lines (-l). */
export function listUprobes(path: string, match: (name: string) => boolean, elf: Elf): string[] {
  const file = uprobeFile(path);
  const names = new Set<string>();
  for (const s of elf.functionSymbols(elfOf(file, elf))) {
    const n = s.name.split('@')[0]!;
    if (n && match(n)) names.add(n);
  }
  return [...names].sort().map((n) => `uprobe:${path}:${n}`);
}

const dwarfCache = new Map<string, Dwarf | undefined>();
const btfCache = new Map<string, Btf | undefined>();
const functionsCache = new Map<string, Map<string, DwarfFunction>>();

/** The DWARF of a uprobe's file (undefined: none); read once per file. */
function dwarfOf(path: string): Dwarf | undefined {
  const file = uprobeFile(path);
  if (!dwarfCache.has(file)) {
    const elf = elfCache.get(file) ?? parseElf(new Uint8Array(readFileSync(file)));
    let d = dwarfOfElf(elf, decompress);
    if (!d) {
      const sep = separateDebugFile(file, elf);
      if (sep) d = dwarfOfElf(parseElf(new Uint8Array(readFileSync(sep))), decompress);
    }
    dwarfCache.set(file, d);
  }
  return dwarfCache.get(file);
}

const DEBUG_ROOT = '/usr/lib/debug';

/** Compressed debug sections (`-gz`, Debian's -dbgsym packages): zlib, which Node has (zstd it has not, in Node 20). */
function decompress(payload: Uint8Array, type: number, size: number): Uint8Array {
  if (type !== ELFCOMPRESS_ZLIB) throw new Error(`compression type ${type} is not supported (zlib is)`);
  return new Uint8Array(inflateSync(payload, { maxOutputLength: size }));
}

/**
 * A stripped file's debug information elsewhere, where distributions' -dbg packages and gdb (and
 * libdw's dwfl_standard_find_debuginfo, bpftrace's) look: by build id under /usr/lib/debug/.build-id,
 * then by its .gnu_debuglink name beside it, in .debug/ beside it, and under /usr/lib/debug.
 */
function separateDebugFile(file: string, elf: ElfFile): string | undefined {
  const id = buildId(elf);
  const candidates: string[] = [];
  if (id && id.length > 2) candidates.push(join(DEBUG_ROOT, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`));
  const link = elf.section('.gnu_debuglink');
  if (link) {
    const bytes = elf.data(link);
    const nul = bytes.indexOf(0);
    const name = new TextDecoder().decode(bytes.subarray(0, nul < 0 ? bytes.length : nul));
    const dir = dirname(file);
    // the link names a file, never a path; one that does is not followed
    if (name && !name.includes('/')) candidates.push(join(dir, name), join(dir, '.debug', name), join(DEBUG_ROOT, dir, name));
  }
  return candidates.find((c) => c !== file && existsSync(c));
}

/** A uprobe file's functions and types as BTF (uprobe `args->`), undefined when it has no debug information. */
export function userBtf(path: string): Btf | undefined {
  const file = uprobeFile(path);
  if (!btfCache.has(file)) {
    const d = dwarfOf(path);
    btfCache.set(file, d && dwarfToBtf(d));
    // the entries cost far more memory than the BTF made of them (a libc's: ~300 MB): a script needs only the BTF
    dwarfCache.delete(file);
  }
  return btfCache.get(file);
}

/** -lv: a function's parameters as bpftrace lists them (`    const char* s`); none without debug information. */
export function uprobeParamLines(path: string, func: string): string[] {
  let d: Dwarf | undefined;
  try {
    d = dwarfOf(path);
  } catch {
    return []; // unreadable DWARF lists no arguments; args-> in a script reports why
  }
  if (!d) return [];
  const file = uprobeFile(path);
  let fns = functionsCache.get(file);
  if (!fns) functionsCache.set(file, (fns = dwarfFunctions(d)));
  const f = fns.get(func);
  return f ? f.params.map((p) => `    ${typeNameOf(d, p.type)} ${p.name}`) : [];
}
