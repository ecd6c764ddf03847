// A cache of CO-RE resolutions, so that a tool started again on the same kernel needs neither the
// kernel's BTF nor the candidate search: what costs most of a tool's start after Node itself.
//
// One file per object (by the SHA-256 of its bytes) holding, per program, the result of each
// relocation, and the identity of the kernel they were resolved against. The kernel's BTF cannot
// change without a reboot, so that identity is the boot (boot_id) plus the kernel's release, version
// and BTF size: a new boot or kernel resolves again. The file starts with the SHA-256 of the rest; a
// file that is truncated, corrupt, from another version or another kernel is ignored (and replaced).
// Written atomically (temporary file, rename); failures to read or write only cost the speed-up.
//
// Where: src/sys/cache-dir.ts ($TSBPF_CACHE_DIR; TSBPF_CACHE_DIR=off disables it).
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreResult } from '../btf/core.js';
import { cacheDir } from '../sys/cache-dir.js';
import type { CoreResults } from '../object/core.js';
import type { CollectionSpec } from '../object/spec.js';

const FORMAT = 'tsbpf-core-cache 1';

// node:crypto loads on first use: commands that load no CO-RE object do not pay for it
let crypto: typeof import('node:crypto') | undefined;
const sha256 = (data: Uint8Array | string): string => (crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(data).digest('hex');

/** Where CO-RE resolutions are cached (src/sys/cache-dir.ts), undefined when caching is off. */
export function coreCacheDir(): string | undefined {
  return cacheDir();
}

let identity: string | null | undefined;

/** The running kernel's identity for CO-RE purposes; undefined when it cannot be told (then no caching). */
export function kernelIdentity(): string | undefined {
  if (identity === undefined) {
    try {
      const read = (p: string) => readFileSync(p, 'utf8').trim();
      identity = [read('/proc/sys/kernel/random/boot_id'), read('/proc/sys/kernel/osrelease'), read('/proc/sys/kernel/version'), statSync('/sys/kernel/btf/vmlinux').size].join(' | ');
    } catch {
      identity = null;
    }
  }
  return identity ?? undefined;
}

export const objectDigest = (bytes: Uint8Array): string => sha256(bytes);

const fileOf = (dir: string, digest: string) => join(dir, `core-${digest}.json`);

interface CacheBody {
  format: string;
  kernel: string;
  object: string;
  programs: Record<string, unknown[]>;
}

/** The cached results for this object on this kernel, if there is a sound cache file for them. */
export function readCoreCache(spec: CollectionSpec, digest: string, dir = coreCacheDir(), kernel = kernelIdentity()): CoreResults | undefined {
  if (!dir || !kernel) return undefined;
  let text: string;
  try {
    text = readFileSync(fileOf(dir, digest), 'utf8');
  } catch {
    return undefined;
  }
  const nl = text.indexOf('\n');
  if (nl !== 64) return undefined;
  const json = text.slice(nl + 1);
  if (sha256(json) !== text.slice(0, nl)) return undefined;
  let body: CacheBody;
  try {
    body = JSON.parse(json) as CacheBody;
  } catch {
    return undefined;
  }
  if (!body || body.format !== FORMAT || body.kernel !== kernel || body.object !== digest || typeof body.programs !== 'object' || !body.programs) return undefined;
  const out: CoreResults = new Map();
  for (const p of spec.programs) {
    if (!p.coreRelos.length) continue;
    const list = body.programs[p.name];
    if (!Array.isArray(list) || list.length !== p.coreRelos.length) return undefined;
    const results: CoreResult[] = [];
    for (const r of list) {
      const res = fromJson(r);
      if (!res) return undefined;
      results.push(res);
    }
    out.set(p.name, results);
  }
  return out;
}

/** Keep `results` for the next start; errors are ignored (read-only or full disk: no cache, same results). */
export function writeCoreCache(digest: string, results: CoreResults, dir = coreCacheDir(), kernel = kernelIdentity()): void {
  if (!dir || !kernel) return;
  const programs: Record<string, unknown[]> = {};
  for (const [name, list] of results) programs[name] = list.map(toJson);
  const json = JSON.stringify({ format: FORMAT, kernel, object: digest, programs } satisfies CacheBody);
  const file = fileOf(dir, digest);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(tmp, `${sha256(json)}\n${json}`, { mode: 0o644 });
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true }); // no half-written temporary left behind
    } catch {
      // nothing to clean
    }
  }
}

// bigint values (64-bit enum values) as {"bigint": "..."}; the Btf a result points to is not kept
const num = (v: number | bigint): unknown => (typeof v === 'bigint' ? { bigint: v.toString() } : v);
function unnum(v: unknown): number | bigint | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v && typeof v === 'object' && typeof (v as { bigint?: unknown }).bigint === 'string' && /^-?\d+$/.test((v as { bigint: string }).bigint)) return BigInt((v as { bigint: string }).bigint);
  return undefined;
}

function toJson(r: CoreResult): unknown {
  if (!r.ok) return { ok: false, reason: r.reason, local: r.local };
  const { targetBtf: _btf, value, origValue, ...rest } = r;
  return { ...rest, value: num(value), origValue: num(origValue) };
}

function fromJson(x: unknown): CoreResult | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const o = x as Record<string, unknown>;
  if (o.ok === false) return typeof o.reason === 'string' && typeof o.local === 'string' ? { ok: false, reason: o.reason, local: o.local } : undefined;
  if (o.ok !== true) return undefined;
  const value = unnum(o.value);
  const origValue = unnum(o.origValue);
  const ints = [o.origSize, o.newSize].every((v) => Number.isInteger(v) && (v as number) >= 0);
  if (value === undefined || origValue === undefined || !ints || typeof o.validate !== 'boolean' || typeof o.failMemszAdjust !== 'boolean' || typeof o.local !== 'string') return undefined;
  if ((o.target !== undefined && typeof o.target !== 'string') || (o.targetTypeId !== undefined && !Number.isInteger(o.targetTypeId))) return undefined;
  const r: CoreResult = { ok: true, value, origValue, validate: o.validate, origSize: o.origSize as number, newSize: o.newSize as number, failMemszAdjust: o.failMemszAdjust, local: o.local };
  if (o.target !== undefined) r.target = o.target as string;
  if (o.targetTypeId !== undefined) r.targetTypeId = o.targetTypeId as number;
  return r;
}
