// Map keys to label values, as ebpf_exporter's decoders do, on keys the object's BTF has already
// decoded to plain values: integers, strings, IPv4/IPv6 addresses, ports in network order, kernel
// symbols, cgroup ids as paths or as the container they belong to.
import { readFileSync } from 'node:fs';
import { KernelSymbols } from '../../tools/common/ksyms.js';
import { formatIPv4, formatIPv6 } from '../../output/inet.js';
import { bytes, big, str } from '../../tools/common/decode.js';
import type { Decoder } from '../config.js';
import { containerLabels, type SourceContext } from '../source.js';

let ksyms: KernelSymbols | undefined;

function ksym(addr: bigint): string {
  ksyms ??= KernelSymbols.parse(readFileSync('/proc/kallsyms', 'utf8'));
  return ksyms.resolve(addr)?.name ?? `0x${addr.toString(16)}`;
}

/** A member of a decoded key or value by dotted path ('' is the whole). */
export function member(v: unknown, path: string): unknown {
  if (!path) return v;
  let cur = v;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) throw new Error(`no member '${path}' (members: ${cur && typeof cur === 'object' ? Object.keys(cur).join(', ') : 'none'})`);
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function decodeLabel(v: unknown, d: Decoder, ctx: SourceContext): string {
  switch (d) {
    case 'uint':
    case 'int':
      return big(v).toString();
    case 'hex':
      return `0x${big(v).toString(16)}`;
    case 'string':
      return str(v);
    case 'inet': {
      if (typeof v === 'number' || typeof v === 'bigint') {
        // a __be32 the program stored as it came: its bytes in memory are the address's
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, Number(v) >>> 0, true);
        return formatIPv4(b);
      }
      const b = bytes(v);
      return b.length === 4 ? formatIPv4(b) : formatIPv6(b);
    }
    case 'port': {
      const n = Number(big(v)) & 0xffff;
      return String(((n & 0xff) << 8) | (n >> 8));
    }
    case 'ksym':
      return ksym(big(v));
    case 'cgroup':
      return ctx.cgroups.path(big(v)) ?? big(v).toString();
    case 'container':
      return containerLabels(ctx, big(v)).container!;
  }
}
