// Programs on perf events: the common step of tracepoint, kprobe, uprobe and sampling attachments
// (BPF_LINK_CREATE with BPF_PERF_EVENT, or PERF_EVENT_IOC_SET_BPF on kernels before 5.15), and
// attachPerfEvent for CPU sampling.
import { AttachType } from '../uapi/bpf.js';
import { linkCreate } from '../sys/bpf.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { closeFd, type Fd } from '../sys/fds.js';
import { onlineCpus } from '../sys/cpus.js';
import { PerfIoctl, PerfSwConfig, PerfType, perfEventOpen, perfIoctl } from '../sys/perf.js';
import { Link, type AttachableProgram } from './link.js';

let linkUnsupported = false;

/**
 * Attach `prog` to the open perf event `pfd`; the returned Link owns pfd (and `undo`).
 * On failure pfd is closed and undo run.
 */
export function attachToPerfEvent(prog: AttachableProgram, pfd: Fd, kind: string, opts: { cookie?: bigint; undo?: Array<() => void> } = {}): Link {
  try {
    if (!linkUnsupported) {
      try {
        const lfd = linkCreate({ progFd: prog.fd, target: pfd, attachType: AttachType.PERF_EVENT, perfEventCookie: opts.cookie });
        perfIoctl(pfd, PerfIoctl.ENABLE, 0, `enable perf event for ${kind}`);
        return new Link(kind, { linkFd: lfd, fds: [pfd], undo: opts.undo });
      } catch (e) {
        // Kernels before 5.15 have no perf-event links: fall back to the ioctl.
        if (!(e instanceof SyscallError && (e.errno === Errno.EINVAL || e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOTSUPP) && opts.cookie === undefined)) throw e;
        linkUnsupported = true;
      }
    }
    perfIoctl(pfd, PerfIoctl.SET_BPF, prog.fd, `PERF_EVENT_IOC_SET_BPF for ${kind}`);
    perfIoctl(pfd, PerfIoctl.ENABLE, 0, `enable perf event for ${kind}`);
    return new Link(kind, { fds: [pfd], undo: opts.undo });
  } catch (e) {
    closeFd(pfd);
    for (const u of opts.undo ?? []) u();
    throw e;
  }
}

export interface PerfEventAttachOptions {
  /** samples per second per CPU (default 99 when neither is given) */
  frequency?: number;
  /** one sample every `period` events (ns for the CPU clock) */
  period?: number | bigint;
  /** CPUs (default: all online) */
  cpus?: number[];
  /** perf type and config (default: software CPU clock) */
  type?: number;
  config?: number | bigint;
  /** only this process (default: all) */
  pid?: number;
}

/** A PERF_EVENT program sampling on every CPU (one perf event and link per CPU). */
export function attachPerfEvent(prog: AttachableProgram, o: PerfEventAttachOptions = {}): Link {
  const freq = o.period === undefined;
  const children: Link[] = [];
  try {
    for (const cpu of o.cpus ?? onlineCpus()) {
      const pfd = perfEventOpen(
        { type: o.type ?? PerfType.SOFTWARE, config: o.config ?? PerfSwConfig.CPU_CLOCK, freq, samplePeriod: freq ? (o.frequency ?? 99) : o.period! },
        { cpu, pid: o.pid ?? -1, operation: `perf_event_open sampling on CPU ${cpu}` },
      );
      children.push(attachToPerfEvent(prog, pfd, `perf_event cpu ${cpu}`));
    }
  } catch (e) {
    for (const c of children) c.close();
    throw e;
  }
  return new Link('perf_event', { children });
}
