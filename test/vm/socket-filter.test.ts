// A socket filter over packets in VM memory, as `capture -r` runs it: one packet at a time and over
// runs of classic pcap records in one call, on both engines, agreeing with each other and with the
// VM's general socket-filter run; a run stops where the reader must take over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../src/net/filter/compile.js';
import { writePcap } from '../../src/net/pcap.js';
import { SocketFilter } from '../../src/vm/socket-filter.js';
import { Vm, VmLoadError } from '../../src/vm/vm.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { Builder, R0, imm } from '../../src/isa/builder.js';
import { corpusFrames } from '../net/corpus.js';

const EXPRS = ['tcp port 80', 'ip6 and not port 53', 'len > 100', 'vlan and ip', 'ether[12:2] = 0x800 and ip[8] > 30'];

test('runs of records and single packets: the same verdicts, on both engines', () => {
  const frames = corpusFrames();
  const pcap = writePcap(frames.map((data, i) => ({ sec: 1700000000 + i, nsec: 0, data, wirelen: data.length + (i % 3) })));
  for (const expr of EXPRS) {
    const insns = compileFilter(expr).insns;
    const want: number[] = [];
    const general = Vm.loadSync(insns, { type: ProgramType.SOCKET_FILTER });
    for (const [engine, f] of [['jit', SocketFilter.load(insns)], ['interp', SocketFilter.load(insns, { engine: 'interp' })]] as const) {
      f.resize(pcap.length).set(pcap);
      // one at a time
      const single: number[] = [];
      let at = 24;
      frames.forEach((data, i) => {
        single.push(f.verdictAt(at + 16, data.length, data.length + (i % 3)));
        at += 16 + data.length;
      });
      // as runs
      const kept = new Map<number, number>();
      let from = 24;
      let read = 0;
      for (;;) {
        const n = f.runRecords(from, pcap.length, 262144, 7);
        for (let k = 0; k < n; k++) kept.set(f.kept[2 + 2 * k]!, f.kept[3 + 2 * k]!);
        read += f.kept[1]!;
        if (f.kept[0] === from) break;
        from = f.kept[0]!;
      }
      assert.equal(read, frames.length, `${expr} ${engine}: every record read`);
      at = 24;
      const runs = frames.map((data) => {
        const v = kept.get(at) ?? 0;
        at += 16 + data.length;
        return v;
      });
      assert.deepEqual(runs, single, `${expr} ${engine}`);
      if (!want.length) {
        // the general run (BPF_PROG_TEST_RUN's: the frame behind a 14-byte dummy header, len its length)
        frames.forEach((data, i) => {
          const d = new Uint8Array(data.length + 14);
          d.set(data, 14);
          want.push(i % 3 ? -1 : Number(general.run(undefined, d).r0));
        });
      }
      single.forEach((v, i) => want[i] !== -1 && assert.equal(v, want[i], `${expr} ${engine} packet ${i}`));
      assert.ok(single.some((v) => v !== 0) || expr === 'vlan and ip', expr);
    }
  }
});

test('a run stops before a record that is not whole, or is longer than the snapshot length', () => {
  const f = SocketFilter.load(new Builder().mov64(R0, imm(9)).exit().build().insns);
  const a = new Uint8Array(60).fill(1);
  const pcap = writePcap([{ sec: 1, nsec: 0, data: a }, { sec: 2, nsec: 0, data: new Uint8Array(200) }, { sec: 3, nsec: 0, data: a }]);
  f.resize(pcap.length).set(pcap);
  // snapshot length 100: the 200-byte record is the reader's (libpcap cuts it)
  assert.equal(f.runRecords(24, pcap.length, 100), 1);
  assert.deepEqual([...f.kept.subarray(0, 4)], [24 + 16 + 60, 1, 24, 9]);
  // the bytes end inside the last record
  assert.equal(f.runRecords(24 + 76 + 216, pcap.length - 1, 262144), 0);
  assert.deepEqual([...f.kept.subarray(0, 2)], [24 + 76 + 216, 0]);
  // at most `max` kept
  assert.equal(f.runRecords(24, pcap.length, 262144, 2), 2);
  assert.deepEqual([...f.kept.subarray(0, 2)], [24 + 76 + 216, 2]);
});

test('packet filters take verified socket filters that call nothing', () => {
  assert.throws(() => SocketFilter.load(new Builder().call('ktime_get_ns').exit().build().insns), VmLoadError);
  const xdp = Vm.loadSync(new Builder().mov64(R0, imm(2)).exit().build().insns, { type: ProgramType.XDP });
  assert.throws(() => xdp.packetFilter(undefined), /packet filters are socket filters, not XDP/);
  // and the VM runs other programs as before once a packet filter is closed
  const f = SocketFilter.load(compileFilter('ip').insns);
  f.close();
  // (the general run, BPF_PROG_TEST_RUN's: the frame behind a 14-byte dummy header)
  const x = f.vm.run(undefined, (() => {
    const d = new Uint8Array(14 + 34);
    d[14 + 12] = 8;
    return d;
  })());
  assert.equal(Number(x.r0), 262144);
});
