// tsbpf reads capture files as libpcap 1.10 does: for each oddity below (pcap versions and their
// length-swapping quirks, snapshot lengths, Kuznetzov's format, pcapng versions, interfaces of
// different link types or snapshot lengths, simple packet blocks, packets before any interface),
// the packets tsbpf reads and the error it stops with are the ones `tcpdump -r FILE -w -` gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapFormatError, PcapReader, readPcap } from '../../src/net/pcap.js';
import { needsCommand } from '../helpers/kernel.js';

const data = (n: number): number[] => Array.from({ length: n }, (_, k) => k & 0xff);
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const le16 = (v: number): number[] => [v & 0xff, v >> 8];

/** A classic pcap file; each record is [caplen field, wirelen field, bytes of data]. */
function pcap(o: { major?: number; minor?: number; snaplen?: number; linktype?: number; magic?: number; extra?: number }, recs: [number, number, number][]): Uint8Array {
  const out = [...le32(o.magic ?? 0xa1b2c3d4), ...le16(o.major ?? 2), ...le16(o.minor ?? 4), ...le32(0), ...le32(0), ...le32(o.snaplen ?? 100), ...le32(o.linktype ?? 1)];
  recs.forEach(([cap, wire, n], i) => {
    out.push(...le32(1700000000 + i), ...le32(0), ...le32(cap), ...le32(wire), ...new Array<number>(o.extra ?? 0).fill(0));
    for (const b of data(n)) out.push(b); // (no spread: records may be 300 KB)
  });
  return Uint8Array.from(out);
}

function block(type: number, body: number[]): number[] {
  while (body.length % 4) body.push(0);
  return [...le32(type), ...le32(12 + body.length), ...body, ...le32(12 + body.length)];
}
const shb = (major = 1, minor = 0): number[] => block(0x0a0d0d0a, [...le32(0x1a2b3c4d), ...le16(major), ...le16(minor), ...new Array<number>(8).fill(0xff)]);
const idb = (linktype: number, snaplen = 0): number[] => block(1, [...le16(linktype), 0, 0, ...le32(snaplen)]);
const epb = (iface: number, n: number, cap = n, wire = n): number[] => block(6, [...le32(iface), ...le32(0), ...le32(0), ...le32(cap), ...le32(wire), ...data(n)]);
const spb = (n: number, wire = n): number[] => block(3, [...le32(wire), ...data(n)]);
const ng = (...blocks: number[][]): Uint8Array => Uint8Array.from(blocks.flat());

const CASES: [string, Uint8Array][] = [
  ['pcap 2.4, a record longer than the snapshot length', pcap({}, [[200, 200, 200], [60, 60, 60]])],
  ['pcap 2.5', pcap({ minor: 5 }, [[60, 60, 60]])],
  ['pcap 1.0', pcap({ major: 1, minor: 0 }, [[60, 60, 60]])],
  ['pcap 3.0', pcap({ major: 3, minor: 0 }, [[60, 60, 60]])],
  ['pcap 2.3, lengths the right way round', pcap({ minor: 3 }, [[60, 200, 60]])],
  ['pcap 2.3, lengths swapped', pcap({ minor: 3 }, [[200, 60, 60], [70, 90, 70]])],
  ['pcap 2.2 (lengths always swapped)', pcap({ minor: 2 }, [[200, 60, 60], [90, 70, 70]])],
  ['pcap 543.0', pcap({ major: 543, minor: 0 }, [[90, 60, 60]])],
  ['snapshot length 0', pcap({ snaplen: 0 }, [[300, 300, 300]])],
  ['a record over 256 KiB', pcap({ snaplen: 262144 }, [[60, 60, 60], [300000, 300000, 300000]])],
  ['cut records, small snapshot length', pcap({ snaplen: 64 }, [[60, 60, 60], [100, 100, 100], [64, 1000, 64]])],
  ["Kuznetzov's format", pcap({ magic: 0xa1b2cd34, extra: 8 }, [[110, 110, 110], [120, 120, 120]])],
  ['a record cut inside its data', pcap({}, [[60, 60, 60], [80, 80, 30]])],
  ['pcapng 1.0', ng(shb(), idb(1), epb(0, 200))],
  ['pcapng 1.2', ng(shb(1, 2), idb(1), epb(0, 80))],
  ['pcapng 1.1', ng(shb(1, 1), idb(1), epb(0, 80))],
  ['pcapng 0.1', ng(shb(0, 1), idb(1), epb(0, 80))],
  ['pcapng, Linux cooked', ng(shb(), idb(113), epb(0, 80))],
  ['pcapng, two link types', ng(shb(), idb(1), epb(0, 80), idb(113), epb(1, 80))],
  ['pcapng, two link types up front', ng(shb(), idb(1), idb(113), epb(0, 80))],
  ['pcapng, two snapshot lengths', ng(shb(), idb(113), idb(113, 50), epb(0, 80))],
  ['pcapng, a second section with another link type', ng(shb(), idb(1), epb(0, 80), shb(), idb(113), epb(0, 80))],
  ['pcapng, a second section alike', ng(shb(), idb(1), epb(0, 80), shb(), idb(1), epb(0, 90))],
  ['pcapng, a packet longer than the snapshot length', ng(shb(), idb(1, 100), epb(0, 60, 60, 300), epb(0, 200))],
  ['pcapng, simple packet blocks', ng(shb(), idb(1, 100), spb(200), spb(60, 80))],
  ['pcapng, a packet before any interface', ng(shb(), epb(0, 80), idb(1))],
];

/** The packets (caplen, wirelen) and the error, as tsbpf reads the file. */
function ours(bytes: Uint8Array): { packets: [number, number][]; error?: string } {
  const packets: [number, number][] = [];
  try {
    const r = new PcapReader(bytes);
    while (r.next()) packets.push([r.caplen, r.wirelen]);
    return { packets };
  } catch (e) {
    if (!(e instanceof PcapFormatError)) throw e;
    return { packets, error: e.message.replace(/ \(at byte \d+\)$/, '') };
  }
}

test('tsbpf reads every capture file oddity as tcpdump (libpcap 1.10) does', (t) => {
  if (!needsCommand(t, 'tcpdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pcap-'));
  try {
    for (const [name, bytes] of CASES) {
      const file = join(dir, 'f');
      writeFileSync(file, bytes);
      const r = spawnSync('tcpdump', ['-r', file, '-w', '-'], { maxBuffer: 1 << 24 });
      const err = r.stderr.toString().split('\n').find((l) => l.startsWith('tcpdump: '))?.replace(/^tcpdump: (pcap_loop: )?/, '');
      const out = new Uint8Array(r.stdout);
      const theirs = out.length >= 24 ? readPcap(out).records.map((rec) => [rec.caplen, rec.wirelen]) : [];
      const got = ours(bytes);
      assert.deepEqual(got.packets, theirs, `${name}: packets`);
      assert.equal(got.error, err === 'unknown file format' ? undefined : err, `${name}: error`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the link type and snapshot length of a pcapng file are its first interface’s', () => {
  const r = new PcapReader(ng(shb(), block(4, [0, 0, 0, 0]), idb(276, 1500), epb(0, 60)));
  assert.equal(r.header.linktype, 276);
  assert.equal(r.header.snaplen, 1500);
  const cut = ours(ng(shb(), idb(1, 100), spb(200)));
  assert.deepEqual(cut.packets, [[100, 200]]);
});
