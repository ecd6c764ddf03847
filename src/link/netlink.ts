// Attachments made by rtnetlink instead of bpf_link: XDP (IFLA_XDP, every kernel since 4.8),
// cls_bpf on a clsact qdisc (before tcx, 6.6), and root qdiscs (fq for EDT pacing). None of these
// die with a file descriptor: each registers its removal with onCleanup, so exit, Ctrl+C, SIGTERM
// and uncaught exceptions undo them. A SIGKILLed process leaves them in place (kernel semantics:
// the interface holds the program) — bpf_link attachments (src/link/net.ts) and pinned links are
// preferred where the kernel has them.
import { onCleanup } from '../sys/cleanup.js';
import { Errno, SyscallError } from '../sys/errors.js';
import {
  TC_H, XDP_ATTACHED, addBpfFilter, addQdisc, deleteFilter, deleteQdisc, linkSetXdp, linkXdpState, listFilters, listQdiscs, tcHandle,
  type Attr, type Qdisc, type XdpState,
} from '../sys/netlink.js';
import { getFdById } from '../sys/bpf.js';
import { closeFd } from '../sys/fds.js';
import { BpfCmd } from '../uapi/bpf.js';
import { XdpFlags, ifindex } from './net.js';
import { Link, type AttachableProgram } from './link.js';

export type { Qdisc, XdpState };

export type XdpMode = 'generic' | 'native' | 'auto';

const modeFlags = (mode: XdpMode): number => (mode === 'generic' ? XdpFlags.SKB_MODE : mode === 'native' ? XdpFlags.DRV_MODE : 0);

/** The XDP state of an interface as netlink reports it (attached mode and program ids). */
export function xdpState(iface: string | number): XdpState {
  return linkXdpState(ifindex(iface));
}

/**
 * Attach an XDP program by netlink. Fails with EBUSY if one is already attached (unless
 * `replace`). Detaching removes it only if it is still ours (compare-and-swap on the program).
 */
export function attachXdpNetlink(prog: AttachableProgram, iface: string | number, o: { mode?: XdpMode; replace?: boolean } = {}): Link {
  const idx = ifindex(iface);
  const flags = modeFlags(o.mode ?? 'auto');
  linkSetXdp(idx, prog.fd, flags | (o.replace ? 0 : XdpFlags.UPDATE_IF_NOEXIST));
  const progFd = prog.fd;
  const what = `xdp (netlink) ${iface}`;
  const undo = onCleanup(`detach ${what}`, () => {
    try {
      // EXPECTED_FD makes this a no-op error when someone replaced our program meanwhile
      linkSetXdp(idx, -1, flags | XdpFlags.REPLACE, { expectedFd: progFd });
    } catch (e) {
      if (!(e instanceof SyscallError && (e.errno === Errno.ENODEV || e.errno === Errno.EEXIST || e.errno === Errno.EBUSY))) throw e;
    }
  });
  return new Link(what, { undo: [undo] });
}

export type TcDirection = 'ingress' | 'egress';

export const clsactParent = (dir: TcDirection): number => tcHandle(TC_H.CLSACT, dir === 'ingress' ? TC_H.MIN_INGRESS : TC_H.MIN_EGRESS);

function hasClsact(idx: number): boolean {
  return listQdiscs(idx).some((q) => q.kind === 'clsact');
}

// clsact qdiscs this process created, by ifindex, with how many of our filters sit on them: the
// last filter detached removes the qdisc (one we found in place is left alone).
const ownedClsact = new Map<number, number>();

/**
 * Attach a SCHED_CLS program as a direct-action cls_bpf filter on the clsact qdisc (created if
 * missing, and removed when the last filter this process put on it is detached).
 */
export function attachTcNetlink(prog: AttachableProgram, iface: string | number, dir: TcDirection, o: { prio?: number; handle?: number; name?: string } = {}): Link {
  const idx = ifindex(iface);
  if (!ownedClsact.has(idx) && !hasClsact(idx)) {
    addQdisc({ ifindex: idx, kind: 'clsact', parent: TC_H.CLSACT, handle: tcHandle(TC_H.CLSACT, 0) });
    ownedClsact.set(idx, 0);
  }
  const parent = clsactParent(dir);
  const prio = o.prio ?? 1;
  const handle = o.handle ?? 1;
  const release = (): void => {
    const n = ownedClsact.get(idx);
    if (n === undefined) return;
    if (n > 1) {
      ownedClsact.set(idx, n - 1);
      return;
    }
    ownedClsact.delete(idx);
    deleteQdisc({ ifindex: idx, parent: TC_H.CLSACT, handle: tcHandle(TC_H.CLSACT, 0), kind: 'clsact' });
  };
  if (ownedClsact.has(idx)) ownedClsact.set(idx, ownedClsact.get(idx)! + 1);
  try {
    addBpfFilter({ ifindex: idx, parent, progFd: prog.fd, name: o.name ?? (prog.name || 'tsbpf'), prio, handle });
  } catch (e) {
    release();
    throw e;
  }
  const what = `tc ${dir} (clsact, netlink) ${iface}`;
  const undo = onCleanup(`detach ${what}`, () => {
    try {
      deleteFilter({ ifindex: idx, parent, prio, handle });
      release();
    } catch (e) {
      if (!(e instanceof SyscallError && (e.errno === Errno.ENODEV || e.errno === Errno.ENOENT || e.errno === Errno.EINVAL))) throw e;
    }
  });
  return new Link(what, { undo: [undo] });
}

/** The filters (kind, name, program id) at one direction of an interface's clsact qdisc. */
export function tcFilters(iface: string | number, dir: TcDirection): ReturnType<typeof listFilters> {
  const idx = ifindex(iface);
  return hasClsact(idx) ? listFilters(idx, clsactParent(dir)) : [];
}

export function qdiscs(iface: string | number): Qdisc[] {
  return listQdiscs(ifindex(iface));
}

/** A root qdisc we put in place; restore() brings back what was there before. */
export interface RootQdisc {
  readonly previous: Qdisc | undefined;
  restore(): void;
}

// Qdiscs the kernel sets up by itself (no handle of ours): deleting the root brings them back.
const DEFAULT_ROOTS = new Set(['noqueue', 'pfifo_fast', 'mq', 'fq_codel', 'noop']);

/**
 * Replace the root qdisc of an interface (e.g. with fq, which honours skb->tstamp for EDT pacing).
 * The previous root qdisc is remembered and restored at restore(), exit or a signal: a default one
 * by deleting ours, any other by re-creating it with the options the kernel reported.
 */
export function replaceRootQdisc(iface: string | number, kind: string, options?: readonly Attr[]): RootQdisc {
  const idx = ifindex(iface);
  const previous = rootQdisc(idx);
  addQdisc({ ifindex: idx, kind, parent: TC_H.ROOT, options, replace: true });
  const undo = onCleanup(`restore root qdisc of ${iface}`, () => restoreRootQdisc(idx, previous));
  return { previous, restore: undo };
}

/** The root qdisc of an interface. */
export function rootQdisc(iface: string | number): Qdisc | undefined {
  return listQdiscs(ifindex(iface)).find((q) => q.parent === TC_H.ROOT);
}

/**
 * Put back the root qdisc `previous` (as rootQdisc() reported it before a replace): a default one
 * by deleting the current root, any other by re-creating it with the options the kernel reported.
 * An interface gone meanwhile is not an error.
 */
export function restoreRootQdisc(iface: string | number, previous: Qdisc | undefined): void {
  try {
    const idx = ifindex(iface);
    if (!previous || (DEFAULT_ROOTS.has(previous.kind) && (previous.handle === 0 || previous.kind === 'noqueue'))) {
      deleteQdisc({ ifindex: idx, parent: TC_H.ROOT });
    } else {
      addQdisc({ ifindex: idx, kind: previous.kind, parent: TC_H.ROOT, handle: previous.handle, options: previous.options, replace: true });
    }
  } catch (e) {
    if (!(e instanceof SyscallError && (e.errno === Errno.ENODEV || e.errno === Errno.ENOENT))) throw e;
  }
}

/**
 * Remove what an earlier process attached by netlink and could not undo (it was SIGKILLed): the
 * cls_bpf filters named `name` at one direction of the clsact qdisc, and the clsact qdisc itself
 * if `removeClsact` and no filter is left on it. Returns what was removed, for the report.
 */
export function removeTcFilters(iface: string | number, dir: TcDirection, name: string, removeClsact: boolean): string[] {
  const idx = ifindex(iface);
  if (!hasClsact(idx)) return [];
  const done: string[] = [];
  for (const f of listFilters(idx, clsactParent(dir))) {
    if (f.kind !== 'bpf' || f.name !== name) continue;
    deleteFilter({ ifindex: idx, parent: clsactParent(dir), prio: f.prio, handle: f.handle });
    done.push(`cls_bpf filter ${name} (program ${f.progId}) on clsact ${dir}`);
  }
  const left = listFilters(idx, clsactParent('ingress')).length + listFilters(idx, clsactParent('egress')).length;
  if (removeClsact && left === 0 && !ownedClsact.has(idx)) {
    deleteQdisc({ ifindex: idx, parent: TC_H.CLSACT, handle: tcHandle(TC_H.CLSACT, 0), kind: 'clsact' });
    done.push('clsact qdisc');
  }
  return done;
}

/** True if the interface has a clsact qdisc. */
export function clsactPresent(iface: string | number): boolean {
  return hasClsact(ifindex(iface));
}

/**
 * Detach the XDP program `progId` attached to an interface by netlink (left by a process that was
 * SIGKILLed): removed only if it is still that program (compare-and-swap on its fd).
 */
export function detachXdpNetlink(iface: string | number, progId: number): void {
  const idx = ifindex(iface);
  const state = linkXdpState(idx);
  const flags = state.attached === XDP_ATTACHED.SKB ? XdpFlags.SKB_MODE : state.attached === XDP_ATTACHED.DRV ? XdpFlags.DRV_MODE : 0;
  const fd = getFdById(BpfCmd.PROG_GET_FD_BY_ID, progId);
  try {
    linkSetXdp(idx, -1, flags | XdpFlags.REPLACE, { expectedFd: fd });
  } finally {
    closeFd(fd);
  }
}
