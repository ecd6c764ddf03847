// perf_event_open(2): struct perf_event_attr (include/uapi/linux/perf_event.h), the ioctls tsbpf
// uses, and the PMU types of dynamic event sources (kprobe, uprobe) from sysfs.
import { existsSync, readFileSync } from 'node:fs';
import { Struct } from './attr.js';
import { SyscallError } from './errors.js';
import { trackFd } from './fds.js';
import { native } from './native.js';

export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;
export const PerfSwConfig = { CPU_CLOCK: 0, TASK_CLOCK: 1, PAGE_FAULTS: 2, CONTEXT_SWITCHES: 3, CPU_MIGRATIONS: 4, DUMMY: 9, BPF_OUTPUT: 10 } as const;
export const PerfSample = { IP: 1 << 0, TID: 1 << 1, TIME: 1 << 2, CPU: 1 << 7, PERIOD: 1 << 8, RAW: 1 << 10 } as const;
export const PerfRecord = { LOST: 2, SAMPLE: 9 } as const;
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;

const ioc = (dir: number, nr: number, size: number): number => ((dir << 30) | (size << 16) | (0x24 /* '$' */ << 8) | nr) >>> 0;
export const PerfIoctl = {
  ENABLE: ioc(0, 0, 0),
  DISABLE: ioc(0, 1, 0),
  SET_BPF: ioc(1, 8, 4),
} as const;

/** Size we pass (PERF_ATTR_SIZE_VER5). */
const ATTR_SIZE = 112;

export interface PerfEventAttr {
  type: number;
  config?: bigint | number;
  /** sample_period, or sample_freq when freq is set */
  samplePeriod?: bigint | number;
  freq?: boolean;
  sampleType?: number;
  /** wake up after this many events (or bytes with watermark) */
  wakeupEvents?: number;
  watermark?: boolean;
  disabled?: boolean;
  inherit?: boolean;
  excludeKernel?: boolean;
  excludeUser?: boolean;
  /** kprobe_func / uprobe_path (pointer field config1), as a string */
  config1String?: string;
  config1?: bigint | number;
  /** probe_offset / kprobe_addr (config2) */
  config2?: bigint | number;
}

export interface PerfOpen {
  pid?: number;
  cpu?: number;
  groupFd?: number;
  /** what this is, for the error message */
  operation?: string;
  hint?: string;
}

/** perf_event_open; returns a tracked fd or throws. */
export function perfEventOpen(a: PerfEventAttr, o: PerfOpen = {}): number {
  const s = new Struct(ATTR_SIZE);
  let flags = 0n;
  if (a.disabled) flags |= 1n;
  if (a.inherit) flags |= 1n << 1n;
  if (a.excludeUser) flags |= 1n << 4n;
  if (a.excludeKernel) flags |= 1n << 5n;
  if (a.freq) flags |= 1n << 10n;
  if (a.watermark) flags |= 1n << 14n;
  const name = a.config1String !== undefined ? new TextEncoder().encode(`${a.config1String}\0`) : null;
  s.u32(0, a.type).u32(4, ATTR_SIZE).u64(8, a.config ?? 0).u64(16, a.samplePeriod ?? 0).u64(24, a.sampleType ?? 0)
    .u64(40, flags).u32(48, a.wakeupEvents ?? 0).u64(64, a.config2 ?? 0);
  if (name) s.ptr(56, name);
  else s.u64(56, a.config1 ?? 0);
  const fd = native().perfEventOpen(s.bytes, o.pid ?? -1, o.cpu ?? -1, o.groupFd ?? -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) throw new SyscallError('perf_event_open', -fd, o.operation ?? `perf_event_open type ${a.type} config ${a.config ?? 0}`, o.hint);
  return trackFd(fd, o.operation ?? 'perf event');
}

export function perfIoctl(fd: number, req: number, arg: number, what: string): void {
  const r = native().ioctl(fd, req, arg);
  if (r < 0) throw new SyscallError('ioctl', -r, what);
}

/** The PMU type number of a dynamic event source (kprobe, uprobe), or undefined if absent. */
export function pmuType(pmu: string): number | undefined {
  const p = `/sys/bus/event_source/devices/${pmu}/type`;
  if (!existsSync(p)) return undefined;
  return Number(readFileSync(p, 'utf8').trim());
}

/** The config bit of a PMU format flag, e.g. uprobe's "retprobe" (format file "config:0"). */
export function pmuFormatBit(pmu: string, flag: string): number | undefined {
  const p = `/sys/bus/event_source/devices/${pmu}/format/${flag}`;
  if (!existsSync(p)) return undefined;
  const m = /^config:(\d+)/.exec(readFileSync(p, 'utf8').trim());
  return m ? Number(m[1]) : undefined;
}
