import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapFormatError, PcapReader, readPcap, writePcap, PCAP_MAGIC_NS } from '../../src/net/pcap.js';
import { needsCommand } from '../helpers/kernel.js';
import { corpusFrames, corpusPcap } from './corpus.js';

const frames = corpusFrames().slice(0, 20);
const recs = frames.map((data, i) => ({ sec: 1700000000 + i, nsec: i * 1000 + 123, data, wirelen: data.length + (i % 3) }));

test('write and read back, microsecond and nanosecond files', () => {
  for (const nanosecond of [false, true]) {
    const { header, records } = readPcap(writePcap(recs, { nanosecond, snaplen: 65535 }));
    assert.equal(header.format, 'pcap');
    assert.equal(header.nanosecond, nanosecond);
    assert.equal(header.snaplen, 65535);
    assert.equal(header.linktype, 1);
    assert.equal(records.length, recs.length);
    records.forEach((r, i) => {
      assert.equal(r.sec, recs[i]!.sec);
      assert.equal(r.nsec, nanosecond ? recs[i]!.nsec : Math.floor(recs[i]!.nsec / 1000) * 1000);
      assert.equal(r.wirelen, recs[i]!.wirelen);
      assert.deepEqual(r.data, recs[i]!.data);
    });
  }
});

test('big-endian pcap files read the same', () => {
  const le = writePcap(recs.slice(0, 3), { nanosecond: true });
  const be = new Uint8Array(le);
  const swap32 = (o: number): void => {
    const v = new DataView(be.buffer);
    v.setUint32(o, v.getUint32(o, true), false);
  };
  const swap16 = (o: number): void => {
    const v = new DataView(be.buffer);
    v.setUint16(o, v.getUint16(o, true), false);
  };
  swap32(0); swap16(4); swap16(6); swap32(16); swap32(20);
  let o = 24;
  for (const r of recs.slice(0, 3)) {
    for (let k = 0; k < 16; k += 4) swap32(o + k);
    o += 16 + r.data.length;
  }
  const { header, records } = readPcap(be);
  assert.equal(header.littleEndian, false);
  assert.equal(header.nanosecond, true);
  assert.deepEqual(records.map((r) => [r.sec, r.nsec, r.data.length]), recs.slice(0, 3).map((r) => [r.sec, r.nsec, r.data.length]));
});

/** A little pcapng file: SHB, an IDB with if_tsresol = 9 (ns), EPBs, a name-resolution block to skip. */
function pcapng(): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + ((body.length + 3) & ~3);
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, len, true);
    b.set(body, 8);
    v.setUint32(len - 4, len, true);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  new DataView(shb.buffer).setUint32(0, 0x1a2b3c4d, true);
  new DataView(shb.buffer).setUint16(4, 1, true);
  new DataView(shb.buffer).setBigInt64(8, -1n, true);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(8 + 8 + 4);
  const iv = new DataView(idb.buffer);
  iv.setUint16(0, 1, true);
  iv.setUint32(4, 65535, true);
  iv.setUint16(8, 9, true); // if_tsresol
  iv.setUint16(10, 1, true);
  idb[12] = 9;
  block(1, idb);
  block(4, new Uint8Array(8)); // name resolution: skipped
  for (const r of recs.slice(0, 4)) {
    const body = new Uint8Array(20 + r.data.length);
    const v = new DataView(body.buffer);
    const ts = BigInt(r.sec) * 1000000000n + BigInt(r.nsec);
    v.setUint32(4, Number(ts >> 32n), true);
    v.setUint32(8, Number(ts & 0xffffffffn), true);
    v.setUint32(12, r.data.length, true);
    v.setUint32(16, r.wirelen, true);
    body.set(r.data, 20);
    block(6, body);
  }
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

test('pcapng: enhanced packet blocks with nanosecond resolution', () => {
  const { header, records } = readPcap(pcapng());
  assert.equal(header.format, 'pcapng');
  assert.equal(header.linktype, 1);
  assert.deepEqual(records.map((r) => [r.sec, r.nsec, r.wirelen]), recs.slice(0, 4).map((r) => [r.sec, r.nsec, r.wirelen]));
  assert.deepEqual(records[2]!.data, recs[2]!.data);
});

test('malformed files give a clear PcapFormatError with the offset', () => {
  const good = writePcap(recs.slice(0, 2));
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /only 0 bytes/],
    ['tiny', Uint8Array.of(1, 2, 3), /only 3 bytes/],
    ['bad magic', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /not a pcap or pcapng file \(magic 0x47455420\)/],
    ['short header', good.slice(0, 10), /truncated pcap file header: 10 of 24/],
    ['record header cut', good.slice(0, 30), /truncated dump file; tried to read 16 header bytes, only got 6/],
    ['packet data cut', good.slice(0, good.length - 5), /truncated dump file; tried to read \d+ captured bytes, only got \d+/],
    ['version', (() => { const b = good.slice(); b[4] = 9; return b; })(), /unsupported pcap savefile version 9\.4/],
    ['implausible caplen', (() => { const b = good.slice(); new DataView(b.buffer).setUint32(24 + 8, 0xffffff00, true); return b; })(), /invalid packet capture length 4294967040, bigger than snaplen of \d+/],
    ['pcapng bad length', (() => { const b = pcapng(); new DataView(b.buffer).setUint32(4, 13, true); return b; })(), /bad length 13/],
    ['pcapng cut', pcapng().slice(0, 50), /pcapng/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(() => readPcap(bytes), (e: unknown) => e instanceof PcapFormatError && re.test(e.message) && /at byte \d+/.test(e.message), name);
  }
});

test('fuzz: truncations and byte flips never crash or hang', () => {
  const files = [corpusPcap(), pcapng(), writePcap(recs, { nanosecond: true })];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (const f of files) {
    for (let k = 0; k < 600; k++) {
      const b = k % 2 ? f.slice(0, rand(f.length)) : f.slice();
      if (k % 2 === 0) for (let j = 0; j < 1 + rand(6); j++) b[rand(b.length)] = rand(256);
      try {
        const r = new PcapReader(b);
        let n = 0;
        while (r.next()) assert.ok(++n <= b.length, 'more records than bytes');
      } catch (e) {
        if (!(e instanceof PcapFormatError)) throw new Error(`fuzz case ${k}: ${String(e)}`);
      }
    }
  }
});

test('tcpdump reads the files tsbpf writes (micro and nano)', (t) => {
  if (!needsCommand(t, 'tcpdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pcap-'));
  try {
    for (const nanosecond of [false, true]) {
      const file = join(dir, `x${nanosecond}.pcap`);
      writeFileSync(file, writePcap(recs, { nanosecond }));
      const r = spawnSync('tcpdump', ['-r', file, '-w', '-', ...(nanosecond ? ['--nano'] : [])]);
      assert.equal(r.status, 0, r.stderr.toString());
      const back = readPcap(new Uint8Array(r.stdout));
      assert.equal(back.records.length, recs.length);
      if (nanosecond) assert.equal(new DataView(r.stdout.buffer, r.stdout.byteOffset).getUint32(0, true), PCAP_MAGIC_NS);
      assert.deepEqual(back.records.map((x) => [x.sec, x.nsec]), recs.map((x) => [x.sec, nanosecond ? x.nsec : Math.floor(x.nsec / 1000) * 1000]));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
