// `capture` as a library: live packets from an AF_PACKET socket filtered in the kernel by the
// compiled expression, and the same compiled filter applied to a capture file in user space.
import { compileFilter, type CompiledFilter } from '../../net/filter/compile.js';
import { PolledQueue } from '../../sys/poll.js';
import { ARPHRD_ETHER, ARPHRD_LOOPBACK, PACKET_OUTGOING, PacketSocket, interfaceIndex, type RingFrame, type RingOptions } from '../../sys/packet-socket.js';
import { loadFilterProgram } from './filter-program.js';

export interface CapturedPacket {
  sec: number;
  nsec: number;
  /** length on the wire */
  wirelen: number;
  /** captured bytes (data.length) */
  caplen: number;
  data: Uint8Array;
  /** interface index (live captures) */
  ifindex?: number;
  /** true for packets this host sent (live captures) */
  outgoing?: boolean;
}

export interface CaptureOptions {
  /** interface name; all interfaces when omitted or 'any' */
  iface?: string;
  /** a filter expression (tcpdump syntax) or an already compiled live filter */
  filter?: string | CompiledFilter;
  /** stop after this many packets */
  count?: number;
  /** bytes kept per packet (default 262144) */
  snaplen?: number;
  signal?: AbortSignal;
  /** size of the receive ring (default 64 slots of 69632 bytes: room for 64 KiB GSO packets) */
  ring?: RingOptions;
}

/** A running live capture: an async iterator of packets; close() (or the signal) stops it. */
export class LiveCapture implements AsyncIterableIterator<CapturedPacket> {
  readonly filter: CompiledFilter;
  readonly ifindex: number;
  /** id of the filter program in the kernel (alive while the socket is open) */
  readonly programId: number;
  private readonly sock: PacketSocket;
  private readonly queue: PolledQueue<CapturedPacket>;
  private seen = 0;
  private closed = false;
  private readonly totals = { packets: 0, drops: 0 };

  constructor(private readonly o: CaptureOptions = {}) {
    this.ifindex = o.iface && o.iface !== 'any' ? interfaceIndex(o.iface) : 0;
    this.filter = typeof o.filter === 'object' ? o.filter : compileFilter(o.filter ?? '', { live: true, snaplen: o.snaplen });
    if (!this.filter.live) throw new Error('capture: the filter must be compiled with { live: true }');
    this.sock = PacketSocket.open();
    try {
      const prog = loadFilterProgram(this.filter);
      try {
        this.programId = prog.id;
        this.sock.attachFilter(prog.fd);
      } finally {
        prog.close(); // the socket holds the program from here on
      }
      this.sock.setupRing(o.ring);
      this.sock.bind(this.ifindex);
    } catch (e) {
      this.sock.close();
      throw e;
    }
    this.queue = new PolledQueue<CapturedPacket>([this.sock.fd], (_i, push) => this.sock.drain((f) => {
      if (keep(f)) push(fromFrame(f));
    }), () => this.sock.close(), { signal: o.signal });
  }

  async next(): Promise<IteratorResult<CapturedPacket>> {
    if (this.o.count !== undefined && this.seen >= this.o.count) {
      this.close();
      return { value: undefined, done: true };
    }
    const r = await this.queue.next();
    if (!r.done) this.seen++;
    return r;
  }

  async return(): Promise<IteratorResult<CapturedPacket>> {
    this.close();
    return { value: undefined, done: true };
  }

  /**
   * Packets already in the ring but not yet delivered, taken now (synchronously): for a last read
   * before close() when the process is about to exit.
   */
  takeReady(): CapturedPacket[] {
    const out: CapturedPacket[] = [];
    if (this.closed) return out;
    this.sock.drain((f) => {
      if (keep(f)) out.push(fromFrame(f));
    });
    return out;
  }

  /**
   * Kernel counters since the start: packets that passed the filter and packets dropped for lack of
   * ring space (still answers after close(), with the totals at closing).
   */
  statistics(): { packets: number; drops: number } {
    if (!this.closed) {
      const s = this.sock.statistics(); // the kernel resets its counters on each read
      this.totals.packets += s.packets;
      this.totals.drops += s.drops;
    }
    return { ...this.totals };
  }

  close(): void {
    if (this.closed) return;
    this.statistics();
    this.closed = true;
    this.queue.stop();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<CapturedPacket> {
    return this;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Start a live capture (throws at once for a bad expression, unknown interface or missing privilege). */
export function capture(o: CaptureOptions = {}): LiveCapture {
  return new LiveCapture(o);
}

/**
 * Frames to deliver: on loopback every packet passes twice (sent and received), keep one as libpcap
 * does; on all interfaces, only Ethernet-framed devices (the filter reads Ethernet offsets).
 */
function keep(f: RingFrame): boolean {
  if (f.pktType === PACKET_OUTGOING && f.hatype === ARPHRD_LOOPBACK) return false;
  return f.hatype === ARPHRD_ETHER || f.hatype === ARPHRD_LOOPBACK;
}

/** A frame from the ring as the packet on the wire: a VLAN tag the kernel took out goes back in. */
function fromFrame(f: RingFrame): CapturedPacket {
  let data = f.data;
  let wirelen = f.wirelen;
  if (f.vlanTci !== undefined && data.length >= 12) {
    const d = new Uint8Array(data.length + 4);
    d.set(data.subarray(0, 12));
    d[12] = f.vlanTpid! >> 8;
    d[13] = f.vlanTpid! & 0xff;
    d[14] = f.vlanTci >> 8;
    d[15] = f.vlanTci & 0xff;
    d.set(data.subarray(12), 16);
    data = d;
    wirelen += 4;
  }
  return { sec: f.sec, nsec: f.nsec, wirelen, caplen: data.length, data, ifindex: f.ifindex, outgoing: f.pktType === PACKET_OUTGOING };
}

export { filterFile, countMatches, scanFile } from './file.js';
