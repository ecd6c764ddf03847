// Network and cgroup attachments: XDP and tcx on an interface, cgroup hooks, socket filters.
// bpf_links where the kernel has them; a legacy PROG_ATTACH to a cgroup does not die with an fd,
// so it is registered for detachment at exit.
import { AttachType } from '../uapi/bpf.js';
import { AttachFlags, linkCreate, progAttach, progDetach } from '../sys/bpf.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { onCleanup } from '../sys/cleanup.js';
import { asFd, closeFd, trackFd } from '../sys/fds.js';
import { O_DIRECTORY, O_RDONLY, openFile } from '../sys/io.js';
import { attachSocketBpf, detachSocketBpf, interfaceIndex } from '../sys/socket.js';
import { Link, type AttachableProgram } from './link.js';

/** XDP attach flags (XDP_FLAGS_*). */
/** XDP_FLAGS_* of linux/if_link.h */
export const XdpFlags = { UPDATE_IF_NOEXIST: 1 << 0, SKB_MODE: 1 << 1, DRV_MODE: 1 << 2, HW_MODE: 1 << 3, REPLACE: 1 << 4 } as const;

/** An interface's index from its name (or the number itself). */
export function ifindex(iface: string | number): number {
  if (typeof iface === 'number') return iface;
  if (!/^[A-Za-z0-9_.:@-]+$/.test(iface)) throw new TypeError(`bad interface name "${iface}"`);
  return interfaceIndex(iface);
}

/** Attach an XDP program to an interface (driver mode if it has one, else generic, unless flags say). */
export function attachXdp(prog: AttachableProgram, iface: string | number, opts: { flags?: number } = {}): Link {
  const idx = ifindex(iface);
  const fd = linkCreate({ progFd: prog.fd, target: idx, attachType: AttachType.XDP, flags: opts.flags ?? 0 },
    'EBUSY: another XDP program is attached (not through a link we can replace); EOPNOTSUPP: try flags SKB_MODE');
  return new Link(`xdp ${iface}`, { linkFd: fd });
}

/** Attach a SCHED_CLS program with tcx (6.6+) at ingress or egress of an interface. */
export function attachTcx(prog: AttachableProgram, iface: string | number, direction: 'ingress' | 'egress'): Link {
  const idx = ifindex(iface);
  const type = direction === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
  const fd = linkCreate({ progFd: prog.fd, target: idx, attachType: type }, 'tcx needs Linux 6.6; on older kernels use a clsact qdisc with a bpf filter');
  return new Link(`tcx ${direction} ${iface}`, { linkFd: fd });
}


/**
 * Attach a cgroup program (CGROUP_SKB, CGROUP_SOCK, CGROUP_SOCK_ADDR, SOCK_OPS, ...) to a cgroup v2
 * directory. Uses a bpf_link; with `legacy: true` (or where links fail with EINVAL) PROG_ATTACH
 * with ALLOW_MULTI, detached by close() or at process exit.
 */
export function attachCgroup(prog: AttachableProgram, cgroupPath: string, type: AttachType, opts: { legacy?: boolean } = {}): Link {
  const cg = trackFd(openFile(cgroupPath, O_RDONLY | O_DIRECTORY, 'give a cgroup v2 directory (e.g. under /sys/fs/cgroup or /sys/fs/cgroup/unified)'), `cgroup ${cgroupPath}`);
  const kind = `cgroup ${AttachType[type] ?? type} ${cgroupPath}`;
  try {
    if (!opts.legacy) {
      try {
        return new Link(kind, { linkFd: linkCreate({ progFd: prog.fd, target: cg, attachType: type }), fds: [cg] });
      } catch (e) {
        if (!(e instanceof SyscallError && e.errno === Errno.EINVAL)) throw e;
      }
    }
    progAttach(cg, prog.fd, type, AttachFlags.ALLOW_MULTI);
    const progFd = prog.fd;
    const undo = onCleanup(`detach ${kind}`, () => {
      try {
        progDetach(cg, progFd, type);
      } catch {
        // already detached (the cgroup was removed, or the program closed and replaced)
      }
    });
    // undo runs before the cgroup fd closes (undo actions run after fds in Link.close: keep cg open)
    return new Link(kind, { undo: [undo, () => closeFd(cg)] });
  } catch (e) {
    closeFd(cg);
    throw e;
  }
}

/** Attach a SOCKET_FILTER program to a socket fd (SO_ATTACH_BPF); close() detaches it. */
export function attachSocketFilter(prog: AttachableProgram, socket: number): Link {
  const socketFd = asFd(socket);
  attachSocketBpf(socketFd, prog.fd);
  const detach = (): void => {
    try {
      detachSocketBpf(socketFd);
    } catch {
      // the socket is already closed
    }
  };
  return new Link(`socket filter on fd ${socketFd}`, { undo: [detach] });
}
