// /etc/ld.so.cache (glibc's "glibc-ld.so.cache1.1" format, optionally after the old "ld.so-1.7.0"
// table): library soname -> path, to resolve `attachUprobe({ library: 'libc' })`. Pure: takes bytes.

export interface LdCacheEntry {
  /** soname, e.g. libc.so.6 */
  name: string;
  path: string;
  /** glibc's flags: 3 = ELF libc6, 0x0300 = x86-64 lib64, 0x0a00 = aarch64 lib64 ... */
  flags: number;
}

export class LdCacheError extends Error {}

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const OLD_ENTRY = 12;

export function parseLdCache(bytes: Uint8Array): LdCacheEntry[] {
  const ascii = (off: number, len: number): string => String.fromCharCode(...bytes.subarray(off, off + len));
  let base = 0;
  if (ascii(0, OLD_MAGIC.length) === OLD_MAGIC) {
    if (bytes.length < 16) throw new LdCacheError('ld.so.cache: truncated old header');
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
    base = 16 + n * OLD_ENTRY;
    base = (base + 7) & ~7; // the new table follows, aligned
    if (base > bytes.length) throw new LdCacheError('ld.so.cache: old table runs past the end');
  }
  if (bytes.length < base + NEW_HEADER || ascii(base, NEW_MAGIC.length) !== NEW_MAGIC) {
    throw new LdCacheError('ld.so.cache: not in the glibc-ld.so.cache1.1 format');
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nlibs = v.getUint32(base + 20, true);
  if (base + NEW_HEADER + nlibs * NEW_ENTRY > bytes.length) throw new LdCacheError(`ld.so.cache: ${nlibs} entries run past the end`);
  const dec = new TextDecoder();
  const str = (off: number): string => {
    // String offsets are from the start of the new-format table.
    const at = base + off;
    if (at >= bytes.length) throw new LdCacheError(`ld.so.cache: string offset ${off} out of range`);
    const end = bytes.indexOf(0, at);
    if (end < 0) throw new LdCacheError('ld.so.cache: unterminated string');
    return dec.decode(bytes.subarray(at, end));
  };
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const e = base + NEW_HEADER + i * NEW_ENTRY;
    out.push({ flags: v.getInt32(e, true), name: str(v.getUint32(e + 4, true)), path: str(v.getUint32(e + 8, true)) });
  }
  return out;
}

/**
 * The path of a library from the cache: exact soname (libc.so.6), or a short name (c, libc, libc.so)
 * matching the first soname that starts with lib<name>.so. Prefers entries for this architecture
 * (`archFlags`, e.g. 0x0300 on x86-64) when given.
 */
export function findInLdCache(entries: readonly LdCacheEntry[], name: string, archFlags?: number): string | undefined {
  const lib = name.startsWith('lib') ? name : `lib${name}`;
  const candidates = [name, `${lib}.so`];
  const ok = (e: LdCacheEntry): boolean => archFlags === undefined || (e.flags & 0xff00) === archFlags;
  for (const pass of [ok, (): boolean => true]) {
    const exact = entries.find((e) => pass(e) && e.name === name);
    if (exact) return exact.path;
    const pref = entries.find((e) => pass(e) && candidates.some((c) => e.name === c || e.name.startsWith(`${c}.`)));
    if (pref) return pref.path;
  }
  return undefined;
}
