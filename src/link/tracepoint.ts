// Tracepoints (a perf event of the tracepoint's id) and raw tracepoints / BTF-typed tracing.
import { AttachType } from '../uapi/bpf.js';
import { linkCreate, rawTracepointOpen } from '../sys/bpf.js';
import { Errno, HINT_FENTRY_DENIED, SyscallError } from '../sys/errors.js';
import { PerfType, perfEventOpen } from '../sys/perf.js';
import { tracepointId } from '../tracefs/tracefs.js';
import { attachToPerfEvent } from './perf-event.js';
import { Link, type AttachableProgram } from './link.js';

/** Attach a TRACEPOINT program to CAT:NAME, e.g. ('syscalls', 'sys_enter_getpid'). */
export function attachTracepoint(prog: AttachableProgram, category: string, name: string, opts: { cookie?: bigint } = {}): Link {
  const id = tracepointId(category, name);
  // pid -1, cpu 0: the program runs for the tracepoint on every CPU.
  const pfd = perfEventOpen({ type: PerfType.TRACEPOINT, config: id }, { pid: -1, cpu: 0, operation: `perf_event_open tracepoint ${category}:${name}` });
  return attachToPerfEvent(prog, pfd, `tracepoint ${category}:${name}`, opts);
}

/** Attach a RAW_TRACEPOINT program to a tracepoint by name, e.g. 'sched_process_exec'. */
export function attachRawTracepoint(prog: AttachableProgram, name: string): Link {
  return new Link(`raw_tracepoint ${name}`, { linkFd: rawTracepointOpen(name, prog.fd) });
}

const FENTRY_LIKE = new Set([AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT, AttachType.MODIFY_RETURN]);

/**
 * Attach a TRACING (tp_btf, fentry, fexit, fmod_ret) or LSM program; the target was fixed at load
 * time by attachBtfId. BPF_LINK_CREATE, falling back to RAW_TRACEPOINT_OPEN on older kernels.
 */
export function attachTracing(prog: AttachableProgram, opts: { cookie?: bigint } = {}): Link {
  const type = prog.expectedAttachType ?? AttachType.TRACE_RAW_TP;
  const hint = FENTRY_LIKE.has(type) ? HINT_FENTRY_DENIED : undefined;
  const kind = `tracing ${AttachType[type] ?? type}`;
  try {
    return new Link(kind, { linkFd: linkCreate({ progFd: prog.fd, target: 0, attachType: type, tracingCookie: opts.cookie }, hint) });
  } catch (e) {
    if (!(e instanceof SyscallError && e.errno === Errno.EINVAL) || opts.cookie !== undefined) throw e;
  }
  return new Link(kind, { linkFd: rawTracepointOpen(null, prog.fd, hint) });
}
