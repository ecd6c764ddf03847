// One summary line per packet in tcpdump's default style (`tcpdump -n -S`: numeric addresses,
// absolute sequence numbers), e.g.
//   12:34:56.789012 IP 10.0.0.1.5555 > 10.0.0.2.80: Flags [S], seq 123, win 64240, options [mss 1460], length 0
// The field order follows tcpdump's so people recognise it; exact equality is not the goal.

import type { LinkKind } from './filter/link.js';
import { formatIPv4, formatIPv6 } from '../output/inet.js';

export interface Printable {
  sec: number;
  nsec: number;
  data: Uint8Array;
  wirelen: number;
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');
export const formatMAC = (b: Uint8Array, o = 0): string => Array.from(b.subarray(o, o + 6), hex2).join(':');
/** HH:MM:SS.uuuuuu in local time, as tcpdump prints by default. */
export function formatTime(sec: number, nsec: number, utc = false): string {
  const d = new Date(sec * 1000);
  const [h, m, s] = utc ? [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()] : [d.getHours(), d.getMinutes(), d.getSeconds()];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(h)}:${p2(m)}:${p2(s)}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}`;
}

export function formatPacket(p: Printable, o: { utc?: boolean; link?: LinkKind } = {}): string {
  return `${formatTime(p.sec, p.nsec, o.utc)} ${summary(p.data, p.wirelen, o.link)}`;
}

/** The part after the timestamp, for a frame of link type `link` (default Ethernet). */
export function summary(d: Uint8Array, wirelen = d.length, link: LinkKind = 'ether'): string {
  const at = network(d, link);
  if (typeof at === 'string') return at;
  const { type, off } = at;
  switch (type) {
    case 0x0800:
      return ipv4(d, off);
    case 0x86dd:
      return ipv6(d, off);
    case 0x0806:
    case 0x8035:
      return arp(d, off, type === 0x8035, wirelen - off);
    default:
      return type < 0x0600 ? `802.3, length ${wirelen}` : `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${wirelen}`;
  }
}

/** Where the link layer says the network layer starts, and what it is (an EtherType). */
function network(d: Uint8Array, link: LinkKind): { type: number; off: number } | string {
  const u16 = (o: number): number => (d[o]! << 8) | d[o + 1]!;
  const version = (o: number): { type: number; off: number } | string =>
    d.length <= o ? '[|ip]' : { type: d[o]! >> 4 === 6 ? 0x86dd : d[o]! >> 4 === 4 ? 0x0800 : 0, off: o };
  switch (link) {
    case 'sll':
      return d.length < 16 ? '[|sll]' : { type: u16(14), off: 16 };
    case 'sll2':
      return d.length < 20 ? '[|sll2]' : { type: u16(0), off: 20 };
    case 'raw':
    case 'ipv4':
    case 'ipv6':
      return version(0);
    case 'null':
    case 'loop': {
      if (d.length < 4) return '[|null]';
      // the address family, in either byte order (DLT_NULL is the writer's host order)
      const af = d[0]! | d[3]!;
      return af === 2 ? { type: 0x0800, off: 4 } : [10, 24, 28, 30].includes(af) ? { type: 0x86dd, off: 4 } : `AF ${af}, length ${d.length}`;
    }
    default: {
      if (d.length < 14) return '[|ether]';
      let off = 12;
      let type = u16(off);
      while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && d.length >= off + 6) {
        off += 4;
        type = u16(off);
      }
      return { type, off: off + 2 };
    }
  }
}

function ipv4(d: Uint8Array, o: number): string {
  if (d.length < o + 20) return 'IP [|ip]';
  const ihl = (d[o]! & 0xf) * 4;
  const total = (d[o + 2]! << 8) | d[o + 3]!;
  const frag = ((d[o + 6]! << 8) | d[o + 7]!) & 0x1fff;
  const proto = d[o + 9]!;
  const src = formatIPv4(d, o + 12);
  const dst = formatIPv4(d, o + 16);
  const end = Math.min(d.length, o + Math.max(total, ihl));
  const t = o + ihl;
  if (frag !== 0) return `IP ${src} > ${dst}: ip-proto-${proto}`;
  return `IP ${transport(d, t, end, proto, src, dst)}`;
}

function ipv6(d: Uint8Array, o: number): string {
  if (d.length < o + 40) return 'IP6 [|ip6]';
  const plen = (d[o + 4]! << 8) | d[o + 5]!;
  let nxt = d[o + 6]!;
  const src = formatIPv6(d, o + 8);
  const dst = formatIPv6(d, o + 24);
  let t = o + 40;
  const end = Math.min(d.length, t + plen);
  let prefix = '';
  if (nxt === 44 && end >= t + 8) {
    const offset = ((d[t + 2]! << 8) | d[t + 3]!) >> 3;
    prefix = `frag (${offset * 8}|${plen - 8}) `;
    nxt = d[t]!;
    t += 8;
    if (offset !== 0) return `IP6 ${src} > ${dst}: ${prefix}ip-proto-${nxt}`;
  }
  if (!prefix) return `IP6 ${transport(d, t, end, nxt, src, dst)}`;
  // after a fragment header tcpdump names the ports alone: "a > b: frag (0|20) 80 > 4000: ..."
  const body = transport(d, t, end, nxt, '', '').replace(/^\.(\d+) > \.(\d+): /, '$1 > $2: ').replace(/^ > : /, '');
  return `IP6 ${src} > ${dst}: ${prefix}${body}`;
}

const TCP_FLAG_CHARS: [number, string][] = [[1, 'F'], [2, 'S'], [4, 'R'], [8, 'P'], [16, '.'], [32, 'U'], [64, 'E'], [128, 'W']];

function transport(d: Uint8Array, t: number, end: number, proto: number, src: string, dst: string): string {
  const u16 = (k: number): number => (d[k]! << 8) | d[k + 1]!;
  const u32 = (k: number): number => ((d[k]! << 24) | (d[k + 1]! << 16) | (d[k + 2]! << 8) | d[k + 3]!) >>> 0;
  switch (proto) {
    case 6: {
      if (end < t + 20) return `${src} > ${dst}: [|tcp]`;
      const doff = (d[t + 12]! >> 4) * 4;
      const flags = d[t + 13]!;
      const len = Math.max(0, end - t - doff);
      const seq = u32(t + 4);
      const parts = [`Flags [${TCP_FLAG_CHARS.filter(([b]) => flags & b).map(([, c]) => c).join('') || 'none'}]`];
      if (len > 0) parts.push(`seq ${seq}:${(seq + len) >>> 0}`);
      else if (flags & 7) parts.push(`seq ${seq}`);
      if (flags & 16) parts.push(`ack ${u32(t + 8)}`);
      parts.push(`win ${u16(t + 14)}`);
      if (flags & 32) parts.push(`urg ${u16(t + 18)}`);
      if (doff > 20 && end >= t + doff) parts.push(`options [${tcpOptions(d.subarray(t + 20, t + doff))}]`);
      parts.push(`length ${len}`);
      return `${src}.${u16(t)} > ${dst}.${u16(t + 2)}: ${parts.join(', ')}`;
    }
    case 17:
      if (end < t + 8) return `${src} > ${dst}: [|udp]`;
      return `${src}.${u16(t)} > ${dst}.${u16(t + 2)}: UDP, length ${Math.max(0, u16(t + 4) - 8)}`;
    case 132:
      if (end < t + 4) return `${src} > ${dst}: [|sctp]`;
      return `${src}.${u16(t)} > ${dst}.${u16(t + 2)}: sctp`;
    case 1:
    case 58: {
      const name = proto === 1 ? 'ICMP' : 'ICMP6,';
      if (end < t + 4) return `${src} > ${dst}: [|icmp]`;
      const type = d[t]!;
      const len = end - t;
      const echo = proto === 1 ? { 8: 'echo request', 0: 'echo reply' }[type] : { 128: 'echo request', 129: 'echo reply' }[type];
      if (echo && end >= t + 8) return `${src} > ${dst}: ${name} ${echo}, id ${u16(t + 4)}, seq ${u16(t + 6)}, length ${len}`;
      const names: Record<number, string> = proto === 1
        ? { 3: 'unreachable', 4: 'source quench', 5: 'redirect', 11: 'time exceeded in-transit', 12: 'parameter problem', 13: 'time stamp query', 14: 'time stamp reply' }
        : { 1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem', 133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 143: 'multicast listener report v2' };
      let what = names[type] ?? `type-#${type}`;
      if (proto === 58 && (type === 135 || type === 136) && end >= t + 24) what += `, ${type === 135 ? 'who has' : 'tgt is'} ${formatIPv6(d, t + 8)}`;
      if (proto === 1 && type === 3 && end >= t + 8 + 20) {
        const inner = t + 8;
        const ip = formatIPv4(d, inner + 16);
        const ip2 = (d[inner]! & 0xf) * 4;
        const ip3 = d[inner + 9]!;
        if (ip3 === 17 && end >= inner + ip2 + 4 && d[t + 1] === 3) what = `${ip} udp port ${u16(inner + ip2 + 2)} unreachable`;
        else what = `${ip} unreachable`;
      }
      return `${src} > ${dst}: ${name} ${what}, length ${len}`;
    }
    case 2:
      return `${src} > ${dst}: igmp`;
    default:
      return `${src} > ${dst}: ip-proto-${proto} ${Math.max(0, end - t)}`;
  }
}

function tcpOptions(o: Uint8Array): string {
  const out: string[] = [];
  for (let k = 0; k < o.length; ) {
    const kind = o[k]!;
    if (kind === 0) {
      out.push('eol');
      break;
    }
    if (kind === 1) {
      out.push('nop');
      k++;
      continue;
    }
    const len = o[k + 1] ?? 0;
    if (len < 2 || k + len > o.length) {
      out.push('bad opt');
      break;
    }
    const v = new DataView(o.buffer, o.byteOffset + k, len);
    switch (kind) {
      case 2:
        out.push(len === 4 ? `mss ${v.getUint16(2)}` : 'mss ?');
        break;
      case 3:
        out.push(len === 3 ? `wscale ${o[k + 2]}` : 'wscale ?');
        break;
      case 4:
        out.push('sackOK');
        break;
      case 5: {
        const blocks: string[] = [];
        for (let b = 2; b + 8 <= len; b += 8) blocks.push(`{${v.getUint32(b)}:${v.getUint32(b + 4)}}`);
        out.push(`sack ${blocks.length} ${blocks.join('')}`);
        break;
      }
      case 8:
        out.push(len === 10 ? `TS val ${v.getUint32(2)} ecr ${v.getUint32(6)}` : 'TS ?');
        break;
      default:
        out.push(`unknown-${kind}`);
    }
    k += len;
  }
  return out.join(',');
}

function arp(d: Uint8Array, o: number, reverse: boolean, length: number): string {
  const name = reverse ? 'RARP' : 'ARP';
  if (d.length < o + 28) return `${name}, [|arp]`;
  const op = (d[o + 6]! << 8) | d[o + 7]!;
  const sha = formatMAC(d, o + 8);
  const spa = formatIPv4(d, o + 14);
  const tha = formatMAC(d, o + 18);
  const tpa = formatIPv4(d, o + 24);
  switch (op) {
    case 1:
      return `${name}, Request who-has ${tpa} tell ${spa}, length ${length}`;
    case 2:
      return `${name}, Reply ${spa} is-at ${sha}, length ${length}`;
    case 3:
      return `${name}, Reverse Request who-is ${tha} tell ${sha}, length ${length}`;
    case 4:
      return `${name}, Reverse Reply ${tha} at ${tpa}, length ${length}`;
    default:
      return `${name}, op ${op}, length ${length}`;
  }
}
