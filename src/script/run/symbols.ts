// What printing a script's values needs from this machine: kernel symbols (/proc/kallsyms), user
// names (/etc/passwd), user symbols (run/usym.ts), and the frames of a stack id from the stack map.
import { readFileSync } from 'node:fs';
import type { DecodeContext } from '../output.js';
import { STACK_DEPTH } from '../maps.js';
import type { RawMap } from '../session.js';

let kallsyms: { addr: bigint; name: string }[] | undefined;

function kernelSymbols(): { addr: bigint; name: string }[] {
  if (!kallsyms) {
    const out: { addr: bigint; name: string }[] = [];
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const sp1 = line.indexOf(' ');
      if (sp1 < 0) continue;
      const type = line[sp1 + 1];
      if (type !== 't' && type !== 'T' && type !== 'w' && type !== 'W') continue;
      const rest = line.slice(sp1 + 3);
      const tab = rest.indexOf('\t');
      out.push({ addr: BigInt('0x' + line.slice(0, sp1)), name: tab < 0 ? rest : rest.slice(0, tab) });
    }
    out.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    kallsyms = out;
  }
  return kallsyms;
}

/** The kernel function an address is in, and the offset into it. */
function ksymOf(addr: bigint): { name: string; off: bigint } | undefined {
  const s = kernelSymbols();
  let lo = 0;
  let hi = s.length - 1;
  if (hi < 0 || addr < s[0]!.addr) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid]!.addr <= addr) lo = mid;
    else hi = mid - 1;
  }
  return { name: s[lo]!.name, off: addr - s[lo]!.addr };
}

let users: Map<number, string> | undefined;

function userName(uid: number): string {
  if (!users) {
    users = new Map();
    try {
      for (const l of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = l.split(':');
        if (f.length > 2) users.set(Number(f[2]), f[0]!);
      }
    } catch {
      /* no passwd */
    }
  }
  return users.get(uid) ?? String(uid);
}

/** Symbols, user names and the stacks of `stacks` (the script's stack map, if it has one). */
export function machineDecode(stacks: RawMap | undefined, usym?: typeof import('./usym.js')): Omit<DecodeContext, 'strftime'> {
  return {
    ksym: (a) => ksymOf(a)?.name ?? (a === 0n ? '0' : `0x${a.toString(16)}`),
    usym: (a) => `0x${a.toString(16)}`,
    username: userName,
    stack: (id, user, pid, limit, mode) => {
      if (!stacks) return [];
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, id, true);
      const raw = stacks.lookup(key);
      if (!raw) return [];
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const frames: string[] = [];
      for (let i = 0; i < Math.min(limit, STACK_DEPTH); i++) {
        const ip = dv.getBigUint64(i * 8, true);
        if (ip === 0n) break;
        if (user) {
          const s = usym?.userSymbol(pid, ip);
          const text = s ? `${s.name}+${s.off}` : `0x${ip.toString(16)}`;
          frames.push(mode === 'perf' ? `${ip.toString(16)} ${s ? text : '[unknown]'}` : text);
        } else {
          const s = ksymOf(ip);
          frames.push(s ? (mode === 'perf' ? `${ip.toString(16)} ${s.name}+${s.off}` : `${s.name}+${s.off}`) : `0x${ip.toString(16)}`);
        }
      }
      return frames;
    },
  };
}
