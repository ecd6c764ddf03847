// tc-limit: rate-limit an interface's egress or ingress with a tc BPF program.
//
//   using lim = await TcLimiter.open('eth0', { direction: 'egress', rate: parseRate('50mbit') });
//   console.log(lim.mode, lim.stats());
//
// Egress uses earliest departure time (skb->tstamp) with the fq qdisc, which tc-limit installs as
// root qdisc and replaces by the previous one on close/exit. Where the kernel has no fq
// (CONFIG_NET_SCH_FQ off), and at ingress (nothing queues there), it polices: a token bucket drops
// what goes over the rate. Attached by tcx (6.6+), else a clsact qdisc with a cls_bpf filter.
import type { Collection } from '../../kernel/collection.js';
import type { Link } from '../../link/link.js';
import { attachTcx, ifindex } from '../../link/net.js';
import { attachTcNetlink, replaceRootQdisc, type RootQdisc } from '../../link/netlink.js';
import { Errno, SyscallError } from '../../sys/errors.js';
import { u32 } from '../../maps/codec.js';
import { cgroupFilter } from '../common/cgroup.js';
import { packetCounter, type PacketCounter } from '../common/counter.js';
import { loadTool, kernelIds } from '../common/runtime.js';
import { claimInterface, FILTER_NAME, type LimitOwnership } from './leftovers.js';

export { parseRate, formatRate, RateError } from './rate.js';

export type LimitMode = 'edt' | 'police';

export interface TcLimitOptions {
  direction: 'egress' | 'ingress';
  /** bits per second */
  rate: number;
  /** one limit per IP address (destination at egress, source at ingress) instead of one in total */
  perIp?: boolean;
  /** egress: only sockets of this cgroup v2 directory and below it */
  cgroup?: string;
  /**
   * policing bucket depth in bytes. Default: 400 ms of the rate (at least 256 KiB) — TCP recovers
   * from policer drops in bursts, and a shallower bucket leaves it well under the rate.
   */
  burst?: number;
  /** default: edt at egress when fq is available, else police */
  mode?: LimitMode;
  /** attach with a clsact qdisc by netlink instead of tcx */
  netlink?: boolean;
  /** told what an earlier limiter, killed before it could undo it, left on the interface (it is undone) */
  report?: (line: string) => void;
}

export type LimitCounter = PacketCounter;

export interface LimitStats {
  pass: LimitCounter;
  delay: LimitCounter;
  drop: LimitCounter;
  skip: LimitCounter;
}

const STAT_NAMES = ['pass', 'delay', 'drop', 'skip'] as const;

export class TcLimiter {
  private closed = false;

  private constructor(
    readonly iface: string,
    readonly mode: LimitMode,
    private readonly coll: Collection,
    private readonly link: Link,
    private readonly qdisc: RootQdisc | undefined,
    /** why the mode is not the one asked for, if it is not */
    readonly note: string | undefined,
    private readonly owner: LimitOwnership,
  ) {}

  /** The loaded object (its programs and maps), for who reports on them (the agent's health metrics). */
  get collection(): Collection {
    return this.coll;
  }

  static async open(iface: string, o: TcLimitOptions): Promise<TcLimiter> {
    ifindex(iface);
    if (o.direction !== 'egress' && o.direction !== 'ingress') throw new TypeError(`tc-limit: direction must be egress or ingress`);
    if (!(o.rate >= 8)) throw new RangeError(`tc-limit: invalid rate ${o.rate} bit/s`);
    if (o.cgroup && o.direction === 'ingress') throw new Error('tc-limit: --cgroup works at egress only (ingress packets have no socket yet)');
    if (o.mode === 'edt' && o.direction === 'ingress') throw new Error('tc-limit: EDT pacing works at egress only');
    const rateBytes = Math.max(1, Math.round(o.rate / 8));
    const burst = o.burst ?? Math.min(1e9, Math.max(262144, Math.round(rateBytes * 0.4)));
    if (!Number.isInteger(burst) || burst < 1500 || burst > 1e9) throw new RangeError(`tc-limit: invalid burst ${burst} bytes (1500..1e9)`);

    const owner = claimInterface(iface, o.direction, o.report);
    // EDT needs fq as root qdisc: install it first, so we know whether this kernel has it.
    let qdisc: RootQdisc | undefined;
    let mode: LimitMode = o.direction === 'ingress' ? 'police' : (o.mode ?? 'edt');
    let note: string | undefined;
    let coll: Collection | undefined;
    let link: Link | undefined;
    try {
      if (mode === 'edt') {
        try {
          owner.replacingRoot(iface);
          qdisc = replaceRootQdisc(iface, 'fq');
        } catch (e) {
          if (o.mode === 'edt' || !(e instanceof SyscallError && (e.errno === Errno.ENOENT || e.errno === Errno.EOPNOTSUPP))) throw e;
          mode = 'police';
          note = 'this kernel has no fq qdisc (CONFIG_NET_SCH_FQ): policing instead of EDT pacing';
        }
      }
      coll = await loadTool('tc-limit', {
        constants: {
          rate_bytes: BigInt(rateBytes),
          burst_bytes: BigInt(burst),
          edt: mode === 'edt',
          per_ip: !!o.perIp,
          by_source: o.direction === 'ingress',
          ...(o.cgroup ? cgroupFilter(o.cgroup) : {}),
        },
      });
      const prog = coll.program('tc_limit');
      const byNetlink = (): Link => {
        owner.attachingByNetlink(iface);
        return attachTcNetlink(prog, iface, o.direction, { name: FILTER_NAME });
      };
      if (o.netlink) {
        link = byNetlink();
      } else {
        try {
          link = attachTcx(prog, iface, o.direction);
        } catch (e) {
          // no tcx before 6.6: the clsact way
          if (!(e instanceof SyscallError && (e.errno === Errno.EINVAL || e.errno === Errno.EOPNOTSUPP))) throw e;
          link = byNetlink();
        }
      }
      return new TcLimiter(iface, mode, coll, link, qdisc, note, owner);
    } catch (e) {
      link?.close();
      coll?.close();
      qdisc?.restore();
      owner.release();
      throw e;
    }
  }

  /** Packets and bytes passed, delayed (EDT), dropped, and skipped (other cgroup), summed over CPUs. */
  stats(): LimitStats {
    const m = this.coll.map('stats').as(u32, packetCounter);
    const out = {} as LimitStats;
    STAT_NAMES.forEach((n, i) => {
      const sum = { packets: 0, bytes: 0 };
      for (const c of m.getPerCpu(i) ?? []) {
        sum.packets += c.packets;
        sum.bytes += c.bytes;
      }
      out[n] = sum;
    });
    return out;
  }

  kernelIds(): { programs: number[]; maps: number[] } {
    return kernelIds(this.coll);
  }

  get attachment(): string {
    return this.link.kind;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.link.close();
    this.coll.close();
    this.qdisc?.restore();
    this.owner.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
