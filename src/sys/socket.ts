// Socket calls more than one part of tsbpf makes: the index of a network interface in this process's
// network namespace (SIOCGIFINDEX: /sys/class/net shows the namespace sysfs was mounted in, which
// may be another), and eBPF socket filters (SO_ATTACH_BPF) on a socket.
import { AF_INET, SIOCGIFINDEX, SOCK_DGRAM, SOL_SOCKET, SO_ATTACH_BPF, SO_DETACH_BPF } from '../uapi/socket.js';
import { Errno, SyscallError, check } from './errors.js';
import type { Fd } from './fds.js';
import { setSockOpt } from './io.js';
import { native } from './native.js';

/** IFNAMSIZ: names are shorter */
const IFNAMSIZ = 16;

/** The index of a network interface, by name (in this process's network namespace). */
export function interfaceIndex(name: string): number {
  if (new TextEncoder().encode(name).length >= IFNAMSIZ) throw new Error(`interface name '${name}' is too long`);
  // any socket answers SIOCGIFINDEX; a UDP one needs no privilege
  const fd = check(native().socket(AF_INET, SOCK_DGRAM, 0), 'socket', 'open a socket for SIOCGIFINDEX');
  try {
    const ifr = new Uint8Array(40); // struct ifreq: the name, then ifr_ifindex at 16
    ifr.set(new TextEncoder().encode(name));
    const r = native().ioctl(fd, SIOCGIFINDEX, ifr);
    if (r < 0) throw new SyscallError('ioctl', -r, `SIOCGIFINDEX '${name}'`, -r === Errno.ENODEV ? `no such interface '${name}' in this network namespace (see \`ip link\`)` : undefined);
    return new DataView(ifr.buffer).getInt32(IFNAMSIZ, true);
  } finally {
    native().close(fd);
  }
}

/** A BPF_PROG_TYPE_SOCKET_FILTER program on a socket (the socket holds the program). */
export function attachSocketBpf(socket: Fd, prog: Fd): void {
  setSockOpt(socket, SOL_SOCKET, SO_ATTACH_BPF, new Int32Array([prog]), `SO_ATTACH_BPF (prog fd ${prog}) on socket ${socket}`);
}

export function detachSocketBpf(socket: Fd): void {
  setSockOpt(socket, SOL_SOCKET, SO_DETACH_BPF, new Int32Array([0]), `SO_DETACH_BPF on socket ${socket}`);
}
