// The pseudo file systems BPF needs: bpffs (pinning) and tracefs (tracepoint ids, formats,
// kprobe_events, trace_pipe). Found in /proc/mounts, mounted where missing.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { SyscallError } from './errors.js';
import { native } from './native.js';

export interface Mount {
  source: string;
  target: string;
  fstype: string;
}

/** Parse /proc/mounts text (octal escapes like \040 decoded). */
export function parseMounts(text: string): Mount[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 3)
    .map(([source, target, fstype]) => ({ source: unescape(source!), target: unescape(target!), fstype: fstype! }));
}

export function mounts(): Mount[] {
  return parseMounts(readFileSync('/proc/mounts', 'utf8'));
}

function ensure(fstype: string, preferred: string[]): string {
  const found = mounts().filter((m) => m.fstype === fstype);
  for (const p of preferred) if (found.some((m) => m.target === p)) return p;
  if (found.length) return found[0]!.target;
  const target = preferred[0]!;
  if (!existsSync(target)) mkdirSync(target, { recursive: true });
  const r = native().mount(fstype, target, fstype, 0);
  if (r < 0) throw new SyscallError('mount', -r, `mount ${fstype} at ${target}`, r === -1 ? 'mounting needs CAP_SYS_ADMIN' : undefined);
  return target;
}

/** Where bpffs is mounted (mounting it at /sys/fs/bpf if it is nowhere). */
export function ensureBpffs(): string {
  return ensure('bpf', ['/sys/fs/bpf']);
}

/** Where tracefs is mounted (mounting it at /sys/kernel/tracing if it is nowhere). */
export function ensureTracefs(): string {
  const found = mounts().filter((m) => m.fstype === 'tracefs').map((m) => m.target);
  for (const p of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) if (found.includes(p)) return p;
  if (found.length) return found[0]!;
  return ensure('tracefs', ['/sys/kernel/tracing']);
}
