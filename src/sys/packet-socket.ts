// AF_PACKET raw sockets with a TPACKET_V2 receive ring (what libpcap uses on Linux): frames are
// read from memory shared with the kernel, with their timestamps, lengths and VLAN tags, and no
// system call per packet. Filters attach as eBPF socket filters (SO_ATTACH_BPF).
import { native } from './native.js';
import { SyscallError, check } from './errors.js';
import { closeFd, trackFd, type Fd } from './fds.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from './io.js';
import { attachSocketBpf, detachSocketBpf } from './socket.js';
import { AF_PACKET, ETH_P_ALL, PACKET_RX_RING, PACKET_STATISTICS, PACKET_VERSION, SOCK_RAW, SOL_PACKET, TPACKET_V2 } from '../uapi/socket.js';

export { ETH_P_ALL };
export { interfaceIndex } from './socket.js';

// struct tpacket2_hdr
const TP_STATUS_USER = 1;
const TP_STATUS_VLAN_VALID = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID = 1 << 6;
const TPACKET2_HDRLEN = 32; // TPACKET_ALIGN(sizeof(struct tpacket2_hdr)); struct sockaddr_ll follows
export const PACKET_OUTGOING = 4;
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;

/** One frame from the ring, copied out. */
export interface RingFrame {
  sec: number;
  nsec: number;
  /** length on the wire */
  wirelen: number;
  /** captured bytes (no VLAN tag: see vlanTci) */
  data: Uint8Array;
  ifindex: number;
  /** PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4 */
  pktType: number;
  hatype: number;
  /** the VLAN tag the kernel took out of the frame (hardware/veth offload), if any */
  vlanTci?: number;
  vlanTpid?: number;
}

export interface RingOptions {
  /** bytes per frame slot (a multiple of 16; frames longer than it minus headers are cut) */
  frameSize?: number;
  frames?: number;
}

export class PacketSocket {
  private _fd: Fd | -1;
  private ring: ArrayBuffer | undefined;
  private ringBytes: Uint8Array | undefined;
  private ringView: DataView | undefined;
  private frameSize = 0;
  private frameCount = 0;
  private cursor = 0;

  private constructor(fd: Fd) {
    this._fd = fd;
  }

  /**
   * A raw packet socket that receives nothing until bind(): attach the filter and set up the ring
   * first, so no unfiltered packet slips in between.
   */
  static open(): PacketSocket {
    const fd = check(native().socket(AF_PACKET, SOCK_RAW, 0), 'socket', 'open AF_PACKET raw socket', 'capturing needs CAP_NET_RAW and CAP_BPF (run as root)');
    return new PacketSocket(trackFd(fd, 'AF_PACKET socket'));
  }

  get fd(): Fd {
    if (this._fd === -1) throw new Error('packet socket used after close()');
    return this._fd;
  }

  /** Attach an eBPF socket filter (BPF_PROG_TYPE_SOCKET_FILTER); the socket keeps the program alive. */
  attachFilter(progFd: Fd): void {
    attachSocketBpf(this.fd, progFd);
  }

  detachFilter(): void {
    detachSocketBpf(this.fd);
  }

  /** Set up and map the TPACKET_V2 receive ring. */
  setupRing(o: RingOptions = {}): void {
    const frameSize = o.frameSize ?? 65536 + 128;
    const frames = o.frames ?? 64;
    const v = new Uint8Array(4);
    new DataView(v.buffer).setInt32(0, TPACKET_V2, true);
    check(native().setsockopt(this.fd, SOL_PACKET, PACKET_VERSION, v), 'setsockopt', 'PACKET_VERSION TPACKET_V2');
    // one frame per block; the block size must be a multiple of the page size
    const blockSize = Math.ceil(frameSize / 4096) * 4096;
    const req = new Uint8Array(16);
    const r = new DataView(req.buffer);
    r.setUint32(0, blockSize, true);
    r.setUint32(4, frames, true);
    r.setUint32(8, blockSize, true);
    r.setUint32(12, frames, true);
    check(native().setsockopt(this.fd, SOL_PACKET, PACKET_RX_RING, req), 'setsockopt', `PACKET_RX_RING (${frames} x ${blockSize} bytes)`);
    const m = native().mmap(this.fd, blockSize * frames, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
    if (typeof m === 'number') throw new SyscallError('mmap', -m, 'map the packet ring');
    this.ring = m;
    this.ringBytes = new Uint8Array(m);
    this.ringView = new DataView(m);
    this.frameSize = blockSize;
    this.frameCount = frames;
  }

  /** Start receiving: all protocols, on one interface (ifindex > 0) or on all (0). */
  bind(ifindex: number): void {
    const sa = new Uint8Array(20);
    const v = new DataView(sa.buffer);
    v.setUint16(0, AF_PACKET, true);
    v.setUint16(2, ETH_P_ALL, false);
    v.setInt32(4, ifindex, true);
    check(native().bind(this.fd, sa), 'bind', `bind AF_PACKET socket to ifindex ${ifindex}`);
  }

  /** Move every frame the kernel has handed over to `push`, returning slots to the kernel. */
  drain(push: (f: RingFrame) => void): number {
    const b = this.ringBytes;
    const v = this.ringView;
    if (!b || !v) throw new Error('packet socket: setupRing() first');
    let n = 0;
    for (;;) {
      const base = this.cursor * this.frameSize;
      const status = v.getUint32(base, true);
      if (!(status & TP_STATUS_USER)) return n;
      const snaplen = v.getUint32(base + 8, true);
      const mac = v.getUint16(base + 12, true);
      const f: RingFrame = {
        wirelen: v.getUint32(base + 4, true),
        sec: v.getUint32(base + 16, true),
        nsec: v.getUint32(base + 20, true),
        data: b.slice(base + mac, base + mac + snaplen),
        ifindex: v.getInt32(base + TPACKET2_HDRLEN + 4, true),
        hatype: v.getUint16(base + TPACKET2_HDRLEN + 8, true),
        pktType: b[base + TPACKET2_HDRLEN + 10]!,
      };
      if (status & TP_STATUS_VLAN_VALID) {
        f.vlanTci = v.getUint16(base + 24, true);
        f.vlanTpid = status & TP_STATUS_VLAN_TPID_VALID ? v.getUint16(base + 26, true) : 0x8100;
      }
      v.setUint32(base, 0, true); // TP_STATUS_KERNEL: the slot is the kernel's again
      this.cursor = (this.cursor + 1) % this.frameCount;
      n++;
      push(f);
    }
  }

  /** Kernel counters since the last call: packets that passed the filter, and those dropped for lack of ring space. */
  statistics(): { packets: number; drops: number } {
    const s = new Uint8Array(8);
    const r = native().getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, s);
    if (r < 0) throw new SyscallError('getsockopt', -r, 'PACKET_STATISTICS');
    const v = new DataView(s.buffer);
    return { packets: v.getUint32(0, true), drops: v.getUint32(4, true) };
  }

  close(): void {
    if (this.ring) native().munmap(this.ring);
    this.ring = this.ringBytes = this.ringView = undefined;
    closeFd(this._fd);
    this._fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
