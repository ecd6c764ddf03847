// What .kconfig externs resolve to: the running kernel's build configuration and version, as libbpf
// reads them (/proc/config.gz, else /boot/config-$(uname -r)).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { release } from 'node:os';
import { parseKconfig } from '../object/externs.js';

// node:zlib (and the streams it loads) on first use: only objects with .kconfig externs need it, and
// every loader (a script's start-up too) imports this module
let zlib: typeof import('node:zlib') | undefined;
const gunzipSync = (b: Uint8Array): Buffer => (zlib ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).gunzipSync(b);

/** KERNEL_VERSION(a, b, c) of a release string like "6.18.44-foo": (a << 16) + (b << 8) + min(c, 255). */
export function kernelVersionCode(rel: string = release()): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

let cached: Map<string, string> | undefined;

/** The running kernel's configuration; empty if the kernel does not expose it. */
export function kernelConfig(): Map<string, string> {
  if (cached) return cached;
  const paths = ['/proc/config.gz', `/boot/config-${release()}`];
  for (const p of paths) {
    if (!existsSync(p)) continue;
    try {
      const raw = readFileSync(p);
      cached = parseKconfig((p.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
      return cached;
    } catch {
      // unreadable: try the next place
    }
  }
  cached = new Map();
  return cached;
}
