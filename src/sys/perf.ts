// perf_event_open(2): struct perf_event_attr (include/uapi/linux/perf_event.h), the ioctls tsbpf
// uses, and the PMU types of dynamic event sources (kprobe, uprobe) from sysfs.
import { existsSync, readFileSync } from 'node:fs';
import { perf_event_attr } from '../uapi/perf-abi.js';
import { Struct } from './attr.js';
import { SyscallError } from './errors.js';
import { trackFd, type Fd } from './fds.js';
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

/** The size we pass: PERF_ATTR_SIZE_VER5 (Linux 4.1), enough for every field tsbpf sets, so that old kernels take it too. */
const PERF_ATTR_SIZE_VER5 = 112;

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
  groupFd?: Fd;
  /** what this is, for the error message */
  operation?: string;
  hint?: string;
}

/** perf_event_open; returns a tracked fd or throws. */
export function perfEventOpen(a: PerfEventAttr, o: PerfOpen = {}): Fd {
  const s = new Struct(perf_event_attr, PERF_ATTR_SIZE_VER5)
    .set('type', a.type).set('size', PERF_ATTR_SIZE_VER5).set('config', a.config ?? 0).set('sample_period', a.samplePeriod ?? 0)
    .set('sample_type', a.sampleType ?? 0).set('disabled', a.disabled ? 1 : 0).set('inherit', a.inherit ? 1 : 0)
    .set('exclude_user', a.excludeUser ? 1 : 0).set('exclude_kernel', a.excludeKernel ? 1 : 0).set('freq', a.freq ? 1 : 0)
    .set('watermark', a.watermark ? 1 : 0).set('wakeup_events', a.wakeupEvents ?? 0).set('config2', a.config2 ?? 0);
  const name = a.config1String !== undefined ? new TextEncoder().encode(`${a.config1String}\0`) : null;
  if (name) s.ptr('config1', name);
  else s.set('config1', a.config1 ?? 0);
  const fd = native().perfEventOpen(s.bytes, o.pid ?? -1, o.cpu ?? -1, o.groupFd ?? -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) throw new SyscallError('perf_event_open', -fd, o.operation ?? `perf_event_open type ${a.type} config ${a.config ?? 0}`, o.hint);
  return trackFd(fd, o.operation ?? 'perf event');
}

export function perfIoctl(fd: Fd, req: number, arg: number, what: string): void {
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
