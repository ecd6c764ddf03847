// What a command needs from the kernel's permission checks, looked at before it loads anything:
// without it a user meets the first failing system call instead — "tracepoint not found" (tracefs
// unreadable), a verifier message for an EACCES, or after seconds of retries a long line of EPERMs.
// The effective capability set (/proc/self/status, CapEff) is what the kernel checks; CAP_SYS_ADMIN
// stands in for CAP_BPF and CAP_PERFMON, as in the kernel's bpf_capable() and perfmon_capable().
import { readFileSync } from 'node:fs';

export type Capability = 'CAP_NET_ADMIN' | 'CAP_NET_RAW' | 'CAP_SYS_ADMIN' | 'CAP_PERFMON' | 'CAP_BPF';

const BIT: Record<Capability, number> = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 };

/** Tracing: load programs, open perf events and tracepoints. */
export const TRACING: readonly Capability[] = ['CAP_BPF', 'CAP_PERFMON'];
/** Networking: load XDP/tc programs, attach them, change qdiscs. */
export const NETWORKING: readonly Capability[] = ['CAP_BPF', 'CAP_NET_ADMIN'];
/** Listing every loaded object (BPF_*_GET_NEXT_ID), reading tracefs. */
export const ADMIN: readonly Capability[] = ['CAP_SYS_ADMIN'];

/** The effective capability set of this process. */
export function effectiveCapabilities(status = '/proc/self/status'): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(status, 'utf8'));
    if (m) return BigInt(`0x${m[1]}`);
  } catch {
    // no procfs: judge by the uid
  }
  return process.geteuid?.() === 0 ? ~0n : 0n;
}

/** The capabilities of `needed` this process lacks (empty: it may go on). */
export function missingCapabilities(needed: readonly Capability[], caps = effectiveCapabilities()): Capability[] {
  const has = (c: Capability): boolean => (caps & (1n << BigInt(BIT[c]))) !== 0n;
  const admin = has('CAP_SYS_ADMIN');
  return needed.filter((c) => !has(c) && !(admin && (c === 'CAP_BPF' || c === 'CAP_PERFMON')));
}

export class PrivilegeError extends Error {
  override name = 'PrivilegeError';
  constructor(
    message: string,
    readonly missing: Capability[],
    readonly hint = 'run it as root, e.g. with sudo',
  ) {
    super(message);
  }
}

/**
 * Throws a PrivilegeError naming what `what` (a command) needs and what this process lacks, e.g.
 * "tcpconnect needs root, or CAP_BPF and CAP_PERFMON: this process lacks CAP_BPF, CAP_PERFMON".
 */
export function requirePrivileges(what: string, needed: readonly Capability[], caps = effectiveCapabilities()): void {
  const missing = missingCapabilities(needed, caps);
  if (!missing.length) return;
  throw new PrivilegeError(`${what} needs root, or ${needed.join(' and ')}: this process lacks ${missing.join(' and ')}`, missing);
}
