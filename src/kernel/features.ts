// What this kernel can do, found by trying (never assumed from the version) and cached.
import { existsSync } from 'node:fs';
import { encode } from '../isa/instruction.js';
import { BPF_ALU64, BPF_CALL, BPF_EXIT, BPF_JMP, BPF_K, BPF_MOV } from '../isa/opcodes.js';
import { AttachType, MapType, ProgramType } from '../uapi/bpf.js';
import { BtfBuilder } from '../btf/marshal.js';
import { MapFlags, addressesOf, btfLoad, linkCreate, mapCreate, progLoad } from '../sys/bpf.js';
import { Errno, SyscallError, VerifierError } from '../sys/errors.js';
import { closeFd, type Fd } from '../sys/fds.js';
import { funcBtfId } from './vmlinux.js';
import { PerfType, perfEventOpen, pmuType } from '../sys/perf.js';

export interface Probe {
  ok: boolean;
  /** errno of the failed attempt */
  errno?: number;
  reason?: string;
}

const cache = new Map<string, Probe>();
function cached(key: string, f: () => Probe): Probe {
  let p = cache.get(key);
  if (!p) cache.set(key, (p = f()));
  return p;
}

const RETURN_0 = encode([
  { code: BPF_ALU64 | BPF_MOV | BPF_K, dst: 0, src: 0, off: 0, imm: 0 },
  { code: BPF_JMP | BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
]);

function attempt(f: () => Fd): Probe {
  try {
    closeFd(f());
    return { ok: true };
  } catch (e) {
    if (e instanceof SyscallError) return { ok: false, errno: e.errno, reason: e.message };
    throw e;
  }
}

const EXPECTED: Partial<Record<ProgramType, AttachType>> = {
  [ProgramType.CGROUP_SOCK_ADDR]: AttachType.CGROUP_INET4_CONNECT,
  [ProgramType.SK_LOOKUP]: AttachType.SK_LOOKUP,
  [ProgramType.CGROUP_SOCKOPT]: AttachType.CGROUP_GETSOCKOPT,
};

/** Can a trivial program of this type be loaded? (types needing a BTF target report EINVAL) */
export function programType(type: ProgramType): Probe {
  return cached(`prog:${type}`, () =>
    attempt(() => progLoad({ type, insns: RETURN_0, license: 'GPL', expectedAttachType: EXPECTED[type] })),
  );
}

/** Can a small map of this type be created? */
export function mapType(type: MapType): Probe {
  return cached(`map:${type}`, () => {
    let key = 4, value = 4, max = 1, flags = 0, extra = 0n;
    let inner: Fd | undefined;
    switch (type) {
      case MapType.RINGBUF: case MapType.USER_RINGBUF: key = 0; value = 0; max = 4096; break;
      case MapType.QUEUE: case MapType.STACK: case MapType.BLOOM_FILTER: key = 0; break;
      case MapType.LPM_TRIE: key = 8; flags = MapFlags.NO_PREALLOC; break;
      case MapType.STACK_TRACE: value = 8; break;
      case MapType.SK_STORAGE: case MapType.INODE_STORAGE: case MapType.TASK_STORAGE: case MapType.CGRP_STORAGE:
        flags = MapFlags.NO_PREALLOC; max = 0; break;
      case MapType.CGROUP_STORAGE: case MapType.PERCPU_CGROUP_STORAGE: key = 16; max = 0; break;
      case MapType.ARENA: key = 0; value = 0; max = 1; flags = MapFlags.MMAPABLE; extra = 0n; break;
      case MapType.ARRAY_OF_MAPS: case MapType.HASH_OF_MAPS:
        inner = mapCreate({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
        break;
    }
    try {
      return attempt(() => mapCreate({ type, keySize: key, valueSize: value, maxEntries: max, flags, innerMapFd: inner, mapExtra: extra }));
    } finally {
      if (inner !== undefined) closeFd(inner);
    }
  });
}

/** Is helper `id` callable from programs of `type`? (the verifier says "invalid func"/"unknown func" if not) */
export function helper(type: ProgramType, id: number): Probe {
  return cached(`helper:${type}:${id}`, () => {
    const insns = encode([
      { code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: id },
      { code: BPF_ALU64 | BPF_MOV | BPF_K, dst: 0, src: 0, off: 0, imm: 0 },
      { code: BPF_JMP | BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
    try {
      closeFd(progLoad({ type, insns, license: 'GPL', expectedAttachType: EXPECTED[type] }));
      return { ok: true };
    } catch (e) {
      if (e instanceof VerifierError) {
        if (/invalid func|unknown func|program of this type cannot use helper/.test(e.log)) return { ok: false, errno: e.errno, reason: e.reason };
        return { ok: true }; // the helper exists; our zero arguments were what the verifier disliked
      }
      if (e instanceof SyscallError) return { ok: false, errno: e.errno, reason: e.message };
      throw e;
    }
  });
}

export const hasKprobePmu = (): boolean => pmuType('kprobe') !== undefined;
export const hasUprobePmu = (): boolean => pmuType('uprobe') !== undefined;
export const hasKprobeEvents = (): boolean => existsSync('/sys/kernel/tracing/kprobe_events') || existsSync('/sys/kernel/debug/tracing/kprobe_events');
/** Kprobes at all: the PMU or the tracefs interface. */
export const hasKprobes = (): boolean => hasKprobePmu() || hasKprobeEvents();

export const hasRingBuffer = (): boolean => mapType(MapType.RINGBUF).ok;

/** BPF_LINK_CREATE for perf events (5.15+): try linking a tracepoint program to a software event. */
export function perfEventLink(): Probe {
  return cached('perf-link', () => {
    let prog: Fd | -1 = -1;
    let pfd: Fd | -1 = -1;
    try {
      const progFd = (prog = progLoad({ type: ProgramType.PERF_EVENT, insns: RETURN_0, license: 'GPL' }));
      const eventFd = (pfd = perfEventOpen({ type: PerfType.SOFTWARE, config: 0, samplePeriod: 1_000_000_000, disabled: true }, { pid: 0, cpu: -1, operation: 'probe perf event' }));
      return attempt(() => linkCreate({ progFd, target: eventFd, attachType: AttachType.PERF_EVENT }));
    } catch (e) {
      if (e instanceof SyscallError) return { ok: false, errno: e.errno, reason: e.message };
      throw e;
    } finally {
      closeFd(pfd);
      closeFd(prog);
    }
  });
}

/** May fentry programs load here? (loads a tiny one on bpf_fentry_test1; EPERM on this VM) */
export function fentry(): Probe {
  return cached('fentry', () => {
    let target: number;
    try {
      target = funcBtfId('bpf_fentry_test1');
    } catch (e) {
      return { ok: false, errno: Errno.ENOENT, reason: (e as Error).message };
    }
    return attempt(() => progLoad({ type: ProgramType.TRACING, insns: RETURN_0, license: 'GPL', expectedAttachType: AttachType.TRACE_FENTRY, attachBtfId: target }));
  });
}

/** A throwaway program of `type` loaded for `expected`, passed to `f` and closed after. */
function withProgram(type: ProgramType, expected: AttachType | undefined, f: (fd: Fd) => Probe): Probe {
  let prog: Fd;
  try {
    prog = progLoad({ type, insns: RETURN_0, license: 'GPL', expectedAttachType: expected });
  } catch (e) {
    if (e instanceof SyscallError) return { ok: false, errno: e.errno, reason: e.message };
    throw e;
  }
  try {
    return f(prog);
  } finally {
    closeFd(prog);
  }
}

/**
 * kprobe.multi links (5.18+, and only with CONFIG_FPROBE: Debian's 6.1 has kprobes without it):
 * a real link on one kernel function, closed at once.
 */
export function kprobeMulti(): Probe {
  return cached('kprobe-multi', () => withProgram(ProgramType.KPROBE, AttachType.TRACE_KPROBE_MULTI, (prog) => {
    const name = new TextEncoder().encode('bpf_fentry_test1\0');
    const syms = addressesOf([name]);
    const p = attempt(() => linkCreate({ progFd: prog, target: 0, attachType: AttachType.TRACE_KPROBE_MULTI, kprobeMulti: { syms, cnt: 1 } }));
    void name;
    return p;
  }));
}

/**
 * uprobe.multi links (6.6+). As libbpf probes it: a link on "/" fails with EBADF where the kernel
 * knows the attach type (a directory is not a binary), and with EINVAL where it does not.
 */
export function uprobeMulti(): Probe {
  return cached('uprobe-multi', () => withProgram(ProgramType.KPROBE, AttachType.TRACE_UPROBE_MULTI, (prog) => {
    const r = attempt(() => linkCreate({
      progFd: prog, target: 0, attachType: AttachType.TRACE_UPROBE_MULTI,
      uprobeMulti: { path: new TextEncoder().encode('/\0'), offsets: BigUint64Array.of(0n), cnt: 1 },
    }));
    return r.errno === Errno.EBADF ? { ok: true } : r.ok ? { ok: false, reason: 'a uprobe.multi link on / was accepted' } : r;
  }));
}

/**
 * tcx links (6.6+): a link on ifindex 0 fails with ENODEV where the kernel has tcx (no such device),
 * with EINVAL where it does not know the attach type. Nothing is attached either way.
 */
export function tcx(): Probe {
  return cached('tcx', () => withProgram(ProgramType.SCHED_CLS, undefined, (prog) => {
    const r = attempt(() => linkCreate({ progFd: prog, target: 0, attachType: AttachType.TCX_INGRESS }));
    return r.errno === Errno.ENODEV ? { ok: true } : r.ok ? { ok: false, reason: 'a tcx link on ifindex 0 was accepted' } : r;
  }));
}

/** Does the kernel accept BTF (a blob with one int type)? */
export function btf(): Probe {
  return cached('btf', () => {
    const b = new BtfBuilder();
    b.int('int', 4, true);
    const blob = b.marshal();
    return attempt(() => btfLoad(blob));
  });
}

/** Everything above, for `tsbpf features`. */
export function probeAll(): Record<string, Probe | boolean> {
  return {
    btf: btf(),
    ringBuffer: hasRingBuffer(),
    perfEventLink: perfEventLink(),
    kprobePmu: hasKprobePmu(),
    kprobeEvents: hasKprobeEvents(),
    uprobePmu: hasUprobePmu(),
    fentry: fentry(),
    kprobeMulti: kprobeMulti(),
    uprobeMulti: uprobeMulti(),
    tcx: tcx(),
    tracepoint: programType(ProgramType.TRACEPOINT),
    rawTracepoint: programType(ProgramType.RAW_TRACEPOINT),
    xdp: programType(ProgramType.XDP),
    socketFilter: programType(ProgramType.SOCKET_FILTER),
    schedCls: programType(ProgramType.SCHED_CLS),
    perfEvent: programType(ProgramType.PERF_EVENT),
    kprobe: programType(ProgramType.KPROBE),
  };
}
