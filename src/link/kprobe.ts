// kprobes and uprobes: a perf event of the kprobe/uprobe PMU (config1 = function name or binary
// path, config2 = offset), or on kernels without the PMU a definition written to tracefs
// kprobe_events/uprobe_events (registered for removal at exit) and its tracepoint.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseElf, type ElfFile } from '../elf/reader.js';
import { symbolOffset } from '../elf/symbols.js';
import { AttachType } from '../uapi/bpf.js';
import { addressesOf, linkCreate } from '../sys/bpf.js';
import { Errno, HINT_NO_KPROBES, SyscallError } from '../sys/errors.js';
import { onCleanup } from '../sys/cleanup.js';
import { PerfType, perfEventOpen, pmuFormatBit, pmuType } from '../sys/perf.js';
import { appendControl, hasControl, tracepointId } from '../tracefs/tracefs.js';
import { findInLdCache, parseLdCache } from './ldcache.js';
import { attachToPerfEvent } from './perf-event.js';
import { Link, type AttachableProgram } from './link.js';
import type { Fd } from '../sys/fds.js';

let probeSeq = 0;

/** A legacy probe defined in tracefs: define, attach its tracepoint, remove at close/exit. */
function legacyProbe(prog: AttachableProgram, control: 'kprobe_events' | 'uprobe_events', group: string, def: (name: string) => string, kind: string, cookie?: bigint): Link {
  const name = `tsbpf_${process.pid}_${probeSeq++}`;
  appendControl(control, def(`${group}/${name}`));
  const undo = onCleanup(`remove ${group}/${name} from ${control}`, () => appendControl(control, `-:${group}/${name}`));
  let pfd: Fd;
  try {
    pfd = perfEventOpen({ type: PerfType.TRACEPOINT, config: tracepointId(group, name) }, { pid: -1, cpu: 0, operation: `perf_event_open ${kind}` });
  } catch (e) {
    undo();
    throw e;
  }
  return attachToPerfEvent(prog, pfd, kind, { cookie, undo: [undo] });
}

export interface KprobeOptions {
  retprobe?: boolean;
  offset?: number;
  cookie?: bigint;
}

/** Attach a KPROBE program to kernel function `func` (entry, +offset, or return). */
export function attachKprobe(prog: AttachableProgram, func: string, o: KprobeOptions = {}): Link {
  const kind = `${o.retprobe ? 'kretprobe' : 'kprobe'} ${func}${o.offset ? `+${o.offset}` : ''}`;
  if (!/^[A-Za-z0-9_.]+$/.test(func)) throw new TypeError(`bad kernel function name "${func}"`);
  const type = pmuType('kprobe');
  if (type !== undefined) {
    const bit = o.retprobe ? (pmuFormatBit('kprobe', 'retprobe') ?? 0) : undefined;
    const pfd = perfEventOpen(
      { type, config: bit === undefined ? 0 : 1 << bit, config1String: func, config2: o.offset ?? 0 },
      { pid: -1, cpu: 0, operation: `perf_event_open ${kind}` },
    );
    return attachToPerfEvent(prog, pfd, kind, { cookie: o.cookie });
  }
  if (hasControl('kprobe_events')) {
    return legacyProbe(prog, 'kprobe_events', 'kprobes', (n) => `${o.retprobe ? 'r' : 'p'}:${n} ${func}${o.offset ? `+${o.offset}` : ''}`, kind, o.cookie);
  }
  throw new SyscallError('perf_event_open', Errno.EOPNOTSUPP, `attach ${kind}`, HINT_NO_KPROBES,
    'no kprobe PMU (/sys/bus/event_source/devices/kprobe) and no tracefs kprobe_events');
}

export interface KprobeMultiOptions {
  /** kernel function names (wildcards are not expanded here) */
  symbols: string[];
  retprobe?: boolean;
  /** one cookie per symbol, readable with bpf_get_attach_cookie */
  cookies?: bigint[];
}

/**
 * Attach a KPROBE program loaded with expectedAttachType TRACE_KPROBE_MULTI to many functions at
 * once (BPF_LINK_CREATE kprobe_multi, 5.18+).
 */
export function attachKprobeMulti(prog: AttachableProgram, o: KprobeMultiOptions): Link {
  const kind = `${o.retprobe ? 'kretprobe' : 'kprobe'}.multi ${o.symbols.slice(0, 3).join(',')}${o.symbols.length > 3 ? ',...' : ''}`;
  if (o.cookies && o.cookies.length !== o.symbols.length) throw new RangeError('attachKprobeMulti: one cookie per symbol');
  const names = o.symbols.map((s) => new TextEncoder().encode(`${s}\0`));
  const syms = addressesOf(names);
  const hint = (errno?: number): string | undefined =>
    pmuType('kprobe') === undefined && !hasControl('kprobe_events') ? HINT_NO_KPROBES
      : errno === Errno.EOPNOTSUPP ? HINT_NO_FPROBE : undefined;
  try {
    const fd = linkCreate({
      progFd: prog.fd,
      target: 0,
      attachType: AttachType.TRACE_KPROBE_MULTI,
      kprobeMulti: { syms, cnt: names.length, flags: o.retprobe ? 1 : 0, cookies: o.cookies ? BigUint64Array.from(o.cookies) : undefined },
    }, hint());
    void names; // the strings must stay alive until the call returns
    return new Link(kind, { linkFd: fd });
  } catch (e) {
    if (e instanceof SyscallError) throw new SyscallError(e.syscall, e.errno, `attach ${kind}`, hint(e.errno) ?? e.hint);
    throw e;
  }
}

/** Kprobes without CONFIG_FPROBE (Debian's 6.1): the multi link is missing, single kprobes work. */
export const HINT_NO_FPROBE = 'kprobe.multi needs a kernel with CONFIG_FPROBE (5.18+): attach one kprobe per function instead (attachKprobe)';

const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'];

/** A library's path from a name ('c', 'libc', 'libc.so.6') or a path (returned as is). */
export function resolveLibrary(name: string): string {
  if (name.includes('/')) return name;
  try {
    const arch = process.arch === 'x64' ? 0x0300 : process.arch === 'arm64' ? 0x0a00 : undefined;
    const p = findInLdCache(parseLdCache(readFileSync('/etc/ld.so.cache')), name, arch);
    if (p && existsSync(p)) return p;
  } catch {
    // no cache, or an unknown format: search the usual directories
  }
  const lib = name.startsWith('lib') ? name : `lib${name}`;
  for (const dir of LIB_DIRS) {
    for (const f of [name, `${lib}.so`, `${lib}.so.6`, `${lib}.so.1`, `${lib}.so.0`]) {
      if (existsSync(`${dir}/${f}`)) return `${dir}/${f}`;
    }
  }
  throw new SyscallError('open', Errno.ENOENT, `find library ${name}`, 'give its path instead (attachUprobe({ path }))');
}

export interface UprobeOptions {
  /** the binary or library file */
  path?: string;
  /** or a library by name, resolved through /etc/ld.so.cache */
  library?: string;
  /** function symbol (offset is then added to it) */
  symbol?: string;
  /** file offset (or offset from the symbol) */
  offset?: number;
  /** only this process (default: every process running the file) */
  pid?: number;
  retprobe?: boolean;
  cookie?: bigint;
  /** file offset of a USDT semaphore the kernel counts up while attached (uprobe PMU's ref_ctr_offset) */
  refCtrOffset?: number;
}

// Parsed binaries by path, reused while the file is unchanged (tools attach many probes to libc).
const elfCache = new Map<string, { mtimeMs: number; size: number; elf: ElfFile }>();
function elfOf(path: string): ElfFile {
  const st = statSync(path);
  const hit = elfCache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.elf;
  const elf = parseElf(new Uint8Array(readFileSync(path)));
  elfCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, elf });
  return elf;
}

/** The file offset a uprobe on `o` needs. */
export function uprobeTarget(o: UprobeOptions): { path: string; offset: number } {
  const path = o.path ?? (o.library ? resolveLibrary(o.library) : undefined);
  if (!path) throw new TypeError('attachUprobe: give path or library');
  let offset = o.offset ?? 0;
  if (o.symbol) offset += symbolOffset(elfOf(path), o.symbol);
  else if (o.offset === undefined) throw new TypeError('attachUprobe: give symbol or offset');
  return { path, offset };
}

/** Attach a KPROBE-type program as a uprobe (or uretprobe) on a user-space function. */
export function attachUprobe(prog: AttachableProgram, o: UprobeOptions): Link {
  const { path, offset } = uprobeTarget(o);
  const kind = `${o.retprobe ? 'uretprobe' : 'uprobe'} ${path}:${o.symbol ?? ''}+0x${offset.toString(16)}`;
  const pid = o.pid ?? -1;
  const type = pmuType('uprobe');
  if (type !== undefined) {
    const bit = o.retprobe ? (pmuFormatBit('uprobe', 'retprobe') ?? 0) : undefined;
    // the semaphore's offset goes in config's upper half (format "ref_ctr_offset": config:32-63)
    const refCtr = o.refCtrOffset ? BigInt(o.refCtrOffset) << 32n : 0n;
    const pfd = perfEventOpen(
      { type, config: BigInt(bit === undefined ? 0 : 1 << bit) | refCtr, config1String: path, config2: offset },
      { pid, cpu: pid === -1 ? 0 : -1, operation: `perf_event_open ${kind}` },
    );
    return attachToPerfEvent(prog, pfd, kind, { cookie: o.cookie });
  }
  if (hasControl('uprobe_events')) {
    return legacyProbe(prog, 'uprobe_events', 'uprobes', (n) => `${o.retprobe ? 'r' : 'p'}:${n} ${path}:0x${offset.toString(16)}`, kind, o.cookie);
  }
  throw new SyscallError('perf_event_open', Errno.EOPNOTSUPP, `attach ${kind}`, 'kernel built without CONFIG_UPROBE_EVENTS');
}

export interface UprobeMultiOptions {
  /** the binary or library file */
  path?: string;
  /** or a library by name, resolved through /etc/ld.so.cache */
  library?: string;
  /** function symbols (wildcards are not expanded here) */
  symbols?: string[];
  /** or file offsets */
  offsets?: number[];
  /** one cookie per probe, readable with bpf_get_attach_cookie */
  cookies?: bigint[];
  /** only this process (default: every process running the file) */
  pid?: number;
  retprobe?: boolean;
}

/**
 * Attach a KPROBE program loaded with expectedAttachType TRACE_UPROBE_MULTI to many places of one
 * file at once (BPF_LINK_CREATE uprobe_multi, 6.6+).
 */
export function attachUprobeMulti(prog: AttachableProgram, o: UprobeMultiOptions): Link {
  const path = o.path ?? (o.library ? resolveLibrary(o.library) : undefined);
  if (!path) throw new TypeError('attachUprobeMulti: give path or library');
  const offsets = o.symbols ? o.symbols.map((symbol) => uprobeTarget({ path, symbol }).offset) : (o.offsets ?? []);
  if (!offsets.length) throw new TypeError('attachUprobeMulti: give symbols or offsets');
  if (o.cookies && o.cookies.length !== offsets.length) throw new RangeError('attachUprobeMulti: one cookie per probe');
  const what = o.symbols ? o.symbols.slice(0, 3).join(',') + (o.symbols.length > 3 ? ',...' : '') : offsets.slice(0, 3).map((x) => `0x${x.toString(16)}`).join(',');
  const kind = `${o.retprobe ? 'uretprobe' : 'uprobe'}.multi ${path}:${what}`;
  try {
    const fd = linkCreate({
      progFd: prog.fd, target: 0, attachType: AttachType.TRACE_UPROBE_MULTI,
      uprobeMulti: {
        path: new TextEncoder().encode(`${path}\0`), offsets: BigUint64Array.from(offsets.map(BigInt)),
        cookies: o.cookies ? BigUint64Array.from(o.cookies) : undefined, cnt: offsets.length, flags: o.retprobe ? 1 : 0, pid: o.pid,
      },
    });
    return new Link(kind, { linkFd: fd });
  } catch (e) {
    if (e instanceof SyscallError) {
      const hint = e.errno === Errno.EINVAL ? 'uprobe.multi needs Linux 6.6: attach one uprobe per function instead (attachUprobe)' : e.hint;
      throw new SyscallError(e.syscall, e.errno, `attach ${kind}`, hint);
    }
    throw e;
  }
}
