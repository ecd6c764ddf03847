// The differential corpus for each link type tsbpf reads: the Ethernet frames (corpus.ts and
// corpus-encap.ts) as they are, or re-framed as Linux cooked v1/v2, raw IP, IPv4/IPv6-only, BSD
// null and OpenBSD loop captures; plus copies of some of them cut short (caplen < wirelen, as a
// small snapshot length leaves them), which is where the order of packet loads shows.
import type { LinkKind } from '../../src/net/filter/link.js';
import { writePcap } from '../../src/net/pcap.js';
import { corpusFrames } from './corpus.js';
import { encapFrames } from './corpus-encap.js';

export const BASE_SEC = 1700000000;

export const LINKTYPE_NUMBERS: Readonly<Record<Exclude<LinkKind, 'ppp'>, number>> = {
  ether: 1, sll: 113, sll2: 276, raw: 101, ipv4: 228, ipv6: 229, null: 0, loop: 108,
};

export interface CorpusRecord {
  data: Uint8Array;
  wirelen: number;
}

const u16 = (v: number): number[] => [v >> 8, v & 0xff];

/** An Ethernet frame as this link type carries it, or undefined if it cannot. */
function reframe(f: Uint8Array, link: LinkKind, i: number): Uint8Array | undefined {
  if (link === 'ether') return f;
  const type = (f[12]! << 8) | f[13]!;
  const payload = f.subarray(14);
  const src = [...f.subarray(6, 12), 0, 0];
  // Linux cooked headers give 802.3 frames protocol 1 (Novell raw) or 4 (802.2 LLC)
  const proto = type > 1500 ? type : payload[0] === 0xff && payload[1] === 0xff ? 0x0001 : 0x0004;
  const pkttype = i % 5; // host, broadcast, multicast, otherhost, outgoing
  const ip = type === 0x0800 ? 4 : type === 0x86dd ? 6 : 0;
  const withHeader = (h: number[]): Uint8Array => Uint8Array.from([...h, ...payload]);
  switch (link) {
    case 'sll':
      return withHeader([...u16(pkttype), ...u16(1), ...u16(6), ...src, ...u16(proto)]);
    case 'sll2':
      return withHeader([...u16(proto), 0, 0, 0, 0, 0, 1 + (i % 3), ...u16(1), pkttype, 6, ...src]);
    case 'raw':
      return ip ? payload : undefined;
    case 'ipv4':
      return ip === 4 ? payload : undefined;
    case 'ipv6':
      return ip === 6 ? payload : undefined;
    case 'null':
    case 'loop': {
      if (!ip) return undefined;
      // IPv6 under the families of several systems (Linux 10, BSD 24, FreeBSD 28, macOS 30)
      const af = ip === 4 ? 2 : [10, 24, 28, 30][i % 4]!;
      const word = link === 'null' ? [af, 0, 0, 0] : [0, 0, 0, af];
      return withHeader(word);
    }
    default:
      return undefined;
  }
}

/** Frames only some link types have: junk where the link header says something unusual. */
function oddFrames(link: LinkKind): Uint8Array[] {
  switch (link) {
    case 'raw':
      return [Uint8Array.of(0x50, 0, 0, 20, ...new Array<number>(16).fill(0)), Uint8Array.of(0x45)];
    case 'null':
      return [Uint8Array.of(7, 0, 0, 0, 0x45, 0, 0, 20, ...new Array<number>(16).fill(0)), Uint8Array.of(0, 0, 0, 2, 0x45, 0, 0, 20)];
    case 'loop':
      return [Uint8Array.of(0, 0, 0, 7, 0x45, 0, 0, 20, ...new Array<number>(16).fill(0)), Uint8Array.of(2, 0, 0, 0, 0x45, 0, 0, 20)];
    case 'sll':
      return [Uint8Array.of(0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x00, 0x04)];
    case 'sll2':
      return [Uint8Array.of(0x08, 0x00, 0, 0, 0, 0, 0, 9, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0)];
    default:
      return [];
  }
}

/** The records of the differential corpus for one link type: packet i has timestamp BASE_SEC + i. */
export function linkCorpus(link: LinkKind): CorpusRecord[] {
  const frames = [...corpusFrames(), ...encapFrames()];
  const whole: Uint8Array[] = [];
  frames.forEach((f, i) => {
    const g = reframe(f, link, i);
    if (g) whole.push(g);
  });
  whole.push(...oddFrames(link));
  const out: CorpusRecord[] = whole.map((data) => ({ data, wirelen: data.length }));
  // cut copies: every fourth frame at a few depths into its headers
  whole.forEach((data, i) => {
    if (i % 4 !== 1) return;
    for (const n of [1, 13, 15, 19, 23, 27, 35, 41, 47, 55, 63]) {
      if (n < data.length && (i + n) % 3 === 0) out.push({ data: data.slice(0, n), wirelen: data.length });
    }
  });
  return out;
}

export function linkCorpusPcap(link: Exclude<LinkKind, 'ppp'>): Uint8Array {
  return writePcap(linkCorpus(link).map((r, i) => ({ sec: BASE_SEC + i, nsec: 0, data: r.data, wirelen: r.wirelen })), { linktype: LINKTYPE_NUMBERS[link] });
}
