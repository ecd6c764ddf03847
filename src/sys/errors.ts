// Typed errors for failed system calls: errno, its name, the operation that failed and a hint that
// says what is missing (capability, lockdown, kernel config) and what to try instead.
import { Errno, type ErrnoName } from '../uapi/errno.js';
import { native } from './native.js';

export { Errno, type ErrnoName };

/** ENOTSUPP is kernel-internal: libc has no name for it. */
const KERNEL_ONLY_NAMES: Record<number, [string, string]> = { [Errno.ENOTSUPP]: ['ENOTSUPP', 'Operation not supported (kernel)'] };

/** ['EPERM', 'Operation not permitted'] for 1. */
export function describeErrno(errno: number): [name: string, message: string] {
  const k = KERNEL_ONLY_NAMES[errno];
  if (k) return k;
  try {
    const [name, msg] = native().strerror(errno);
    return [name || `E${errno}`, msg];
  } catch {
    return [`E${errno}`, `error ${errno}`];
  }
}

export const HINT_NO_KPROBES =
  'kernel built without CONFIG_KPROBES: use the tracepoint or tp_btf covering the same event (e.g. sock/inet_sock_set_state)';
export const HINT_FENTRY_DENIED = 'attach not permitted on this kernel — use tp_btf or a tracepoint';

function defaultHint(errno: number, syscall: string, operation: string): string | undefined {
  const root = process.getuid?.() === 0;
  switch (errno) {
    case Errno.EPERM:
      return root
        ? 'not permitted even as root: kernel lockdown (see /sys/kernel/security/lockdown), a seccomp/LSM policy, ' +
            'or this program/attach type is not allowed on this kernel'
        : 'needs root, or CAP_BPF (+ CAP_PERFMON for tracing, CAP_NET_ADMIN for networking) or CAP_SYS_ADMIN; ' +
            'check kernel.unprivileged_bpf_disabled';
    case Errno.E2BIG:
      if (/(update|push|lookup|delete) on map|MAP_UPDATE/.test(operation)) return 'the map is full (max_entries), or the array index is beyond max_entries';
      return 'too big: an attribute field this kernel does not know was set, or a size limit (program length, map size, log size) was exceeded';
    case Errno.ENOSPC:
      return /load|BTF/i.test(operation)
        ? 'the verifier log buffer is too small'
        : 'no space: the map is full (max_entries reached) or the output buffer is too small';
    case Errno.EINVAL:
      return 'the kernel rejected an argument: an unsupported flag, type or attach type on this kernel, or a size mismatch';
    case Errno.ENOENT:
      return syscall === 'bpf' ? 'no such element or object' : 'not found';
    case Errno.EEXIST:
      return 'already exists (update with NOEXIST, or an attachment already in place)';
    case Errno.EBADF:
      return 'bad file descriptor: closed, or not the kind of object expected';
    case Errno.EACCES:
      return 'access denied: the verifier rejected the program, or the object is read-only/frozen';
    case Errno.EBUSY:
      return 'busy: something is already attached there';
    case Errno.EOPNOTSUPP:
    case Errno.ENOTSUPP:
      return 'not supported by this kernel or for this map/program type';
    case Errno.ENOSYS:
      return 'system call not implemented: kernel built without CONFIG_BPF_SYSCALL?';
    case Errno.ENOMEM:
      return 'out of memory (or RLIMIT_MEMLOCK too low on kernels before 5.11)';
    default:
      return undefined;
  }
}

export class SyscallError extends Error {
  readonly errno: number;
  /** errno name, e.g. 'EPERM' */
  readonly code: string;
  /** the system call: 'bpf', 'perf_event_open', 'open', ... */
  readonly syscall: string;
  /** what tsbpf was doing, e.g. 'BPF_MAP_CREATE hash "counts"' */
  readonly operation: string;
  readonly hint: string | undefined;

  constructor(syscall: string, errno: number, operation: string, hint?: string, detail?: string) {
    const [code, text] = describeErrno(errno);
    const h = hint ?? defaultHint(errno, syscall, operation);
    super(`${operation}: ${code} (${text})${detail ? `: ${detail}` : ''}${h ? ` — ${h}` : ''}`);
    this.name = 'SyscallError';
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.operation = operation;
    this.hint = h;
  }
}

/** Returns a non-negative result; throws a SyscallError for -errno. */
export function check(result: number, syscall: string, operation: string, hint?: string): number {
  if (result < 0) throw new SyscallError(syscall, -result, operation, hint);
  return result;
}

/** Failing instruction index in a verifier log: the last "N: (op) ..." line before the error. */
export function failingInstruction(log: string): number | undefined {
  let last: number | undefined;
  for (const m of log.matchAll(/^(\d+): \([0-9a-f]{2}\)/gm)) last = Number(m[1]);
  if (last === undefined) {
    const m = /(?:insn idx|insn|instruction) #?(\d+)/.exec(log);
    if (m) last = Number(m[1]);
  }
  return last;
}

/** The line of the log that says why: the last line that is not a statistics line. */
export function verifierReason(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const stats = /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|mark_read|; )/;
  for (let i = lines.length - 1; i >= 0; i--) if (!stats.test(lines[i]!)) return lines[i];
  return undefined;
}

export class VerifierError extends SyscallError {
  /** the full verifier log */
  readonly log: string;
  /** index of the failing instruction slot, when the log names one */
  readonly instruction: number | undefined;
  /** source line of that instruction, from the caller's line info */
  readonly source: string | undefined;
  readonly reason: string | undefined;
  /** the program's name in its collection, set by the loader that knows it */
  program: string | undefined;

  constructor(errno: number, operation: string, log: string, lineSource?: (slot: number) => string | undefined, hint?: string) {
    const instruction = failingInstruction(log);
    const reason = verifierReason(log);
    let source: string | undefined;
    try {
      source = instruction !== undefined ? lineSource?.(instruction) : undefined;
    } catch {
      source = undefined;
    }
    const where = instruction !== undefined ? ` at instruction ${instruction}` : '';
    const detail = `verifier rejected the program${where}${reason ? `: ${reason}` : ''}${source ? `\n  source: ${source}` : ''}`;
    super('bpf', errno, operation, hint ?? (log ? 'see the verifier log (error.log)' : undefined), detail);
    this.name = 'VerifierError';
    this.log = log;
    this.instruction = instruction;
    this.source = source;
    this.reason = reason;
  }
}
