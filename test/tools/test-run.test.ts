// test-run: a crafted pcap through XDP, tc and socket-filter programs with known verdicts
// (test/net-tools/fixtures/verdicts.bpf.c), in the library and through the CLI; malformed pcaps and
// wrong arguments give clear errors and leave nothing loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRunPcap, verdictName } from '../../src/tools/test-run/index.js';
import { ether, ipv4, ipv6, tcp, udp, icmp, arp, ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, IPPROTO, TCP_FLAGS } from '../../src/net/craft.js';
import { writePcap, PcapFormatError } from '../../src/net/pcap.js';
import { listPrograms } from '../../src/sys/info.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { buildObject } from '../helpers/objects.js';
import { CLI } from '../net-tools/topology.js';

const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';
const e4 = (p: Uint8Array): Uint8Array => ether({ dst: M2, src: M1, type: ETH_P_IP }, p);

/** the crafted capture: [name, frame] */
function frames(): [string, Uint8Array][] {
  return [
    ['udp', e4(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO.UDP }, udp({ sport: 1000, dport: 53 }, new Uint8Array(12))))],
    ['tcp syn', e4(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO.TCP }, tcp({ sport: 1000, dport: 80, flags: TCP_FLAGS.SYN, src: '10.0.0.1', dst: '10.0.0.2' } as never)))],
    ['icmp', e4(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO.ICMP }, icmp({ type: 8, id: 1, seq: 1 }, new Uint8Array(8))))],
    ['truncated ipv4', e4(new Uint8Array([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17]))],
    ['arp', ether({ dst: 'ff:ff:ff:ff:ff:ff', src: M1, type: ETH_P_ARP }, arp({ op: 1, sha: M1, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' }))],
    ['ipv6 udp', ether({ dst: M2, src: M1, type: ETH_P_IPV6 }, ipv6({ src: 'fd00::1', dst: 'fd00::2', nxt: IPPROTO.UDP }, udp({ sport: 1, dport: 2, src: 'fd00::1', dst: 'fd00::2' })))],
    ['runt', new Uint8Array(10)],
  ];
}

function pcapBytes(): Uint8Array {
  return writePcap(frames().map(([, data], i) => ({ sec: 1700000000 + i, nsec: 0, data })));
}

const EXPECTED: Record<string, string[]> = {
  xdp_verdicts: ['XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_ABORTED', 'XDP_REDIRECT', 'XDP_REDIRECT', 'error'],
  // skb programs: the kernel refuses an IPv4 packet shorter than its header (EINVAL) before running them
  tc_verdicts: ['TC_ACT_SHOT', 'TC_ACT_OK', 'TC_ACT_OK', 'error', 'TC_ACT_OK', 'TC_ACT_OK', 'error'],
  sock_verdicts: ['drop', 'keep 54 bytes', 'drop', 'error', 'drop', 'drop', 'error'],
};

test('verdict names by program type', () => {
  assert.equal(verdictName(ProgramType.XDP, 1), 'XDP_DROP');
  assert.equal(verdictName(ProgramType.XDP, 9), 'XDP_9');
  assert.equal(verdictName(ProgramType.SCHED_CLS, 0xffffffff), 'TC_ACT_UNSPEC');
  assert.equal(verdictName(ProgramType.SCHED_CLS, 7), 'TC_ACT_REDIRECT');
  assert.equal(verdictName(ProgramType.SOCKET_FILTER, 0), 'drop');
  assert.equal(verdictName(ProgramType.SOCKET_FILTER, 0xffffffff), 'keep 4294967295 bytes');
  assert.equal(verdictName(ProgramType.CGROUP_SKB, 1), 'allow');
});

test('XDP, tc and socket-filter verdicts for each packet of a crafted pcap', (t) => {
  if (!needsRoot(t)) return;
  const obj = buildObject('test/net-tools/fixtures/verdicts.bpf.c');
  const before = new Set(listPrograms().map((p) => p.id));
  const pcap = pcapBytes();
  for (const [prog, want] of Object.entries(EXPECTED)) {
    const r = testRunPcap(obj, prog, pcap, { repeat: 3 });
    assert.deepEqual(r.packets.map((p) => p.verdict), want, prog);
    assert.deepEqual(r.packets.map((p) => p.index), [1, 2, 3, 4, 5, 6, 7]);
    const counts: Record<string, number> = {};
    for (const v of want) counts[v] = (counts[v] ?? 0) + 1;
    assert.deepEqual(r.counts, counts);
    assert.match(r.packets[6]!.error!, /shorter than an Ethernet header/);
    if (prog === 'xdp_verdicts') {
      // XDP_TX swapped the MACs: the output packet is reported
      const icmpOut = r.packets[2]!.modified!;
      assert.deepEqual([...icmpOut.subarray(0, 12)], [...frames()[2]![1].subarray(6, 12), ...frames()[2]![1].subarray(0, 6)]);
      assert.equal(r.packets[0]!.modified, undefined);
    }
  }
  const left = listPrograms().filter((p) => !before.has(p.id) && /_verdicts$/.test(p.name));
  assert.deepEqual(left, [], 'programs unloaded after each run');
});

test("--vm: the kernel's verdicts from tsbpf's VM, which needs no privileges", (t) => {
  if (!needsCommand(t, 'clang')) return;
  const obj = new Uint8Array(readFileSync(buildObject('test/net-tools/fixtures/verdicts.bpf.c')));
  const pcap = pcapBytes();
  for (const [prog, want] of Object.entries(EXPECTED)) {
    const r = testRunPcap(obj, prog, pcap, { vm: true, repeat: 3 });
    assert.deepEqual(r.packets.map((p) => p.verdict), want, prog);
    assert.match(r.packets[6]!.error!, /shorter than an Ethernet header/);
    if (prog === 'xdp_verdicts') assert.deepEqual([...r.packets[2]!.modified!.subarray(0, 6)], [...frames()[2]![1].subarray(6, 12)]);
    else assert.match(r.packets[3]!.error!, /IPv4 packet of 24 bytes is shorter than its header/);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-testrun-vm-'));
  try {
    const file = join(dir, 'crafted.pcap');
    writeFileSync(file, pcap);
    const objFile = join(dir, 'verdicts.o');
    writeFileSync(objFile, obj);
    const text = spawnSync(process.execPath, [...CLI, 'test-run', objFile, '--prog', 'sock_verdicts', '--pcap', file, '--vm'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /7 packets through sock_verdicts \(SOCKET_FILTER\):\n\s+drop\s+4\n\s+error\s+2\n\s+keep 54 bytes\s+1\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tsbpf test-run prints verdicts and counts, --json lines, and clear errors', (t) => {
  if (!needsRoot(t)) return;
  const obj = buildObject('test/net-tools/fixtures/verdicts.bpf.c');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-testrun-'));
  const run = (args: string[]) => spawnSync(process.execPath, [...CLI, 'test-run', ...args], { encoding: 'utf8', timeout: 60_000 });
  try {
    const file = join(dir, 'crafted.pcap');
    writeFileSync(file, pcapBytes());
    const text = run([obj, '--prog', 'xdp_verdicts', '--pcap', file]);
    assert.equal(text.status, 0, text.stderr);
    const rows = text.stdout.split('\n').filter((l) => /^\d+\s+\d+\s/.test(l));
    assert.deepEqual(rows.map((l) => l.trim().split(/\s+/)[2]), EXPECTED.xdp_verdicts);
    assert.match(text.stdout, /7 packets through xdp_verdicts \(XDP\)/);
    assert.match(text.stdout, /XDP_REDIRECT\s+2/);
    assert.match(text.stdout, /packet modified/);

    const json = run([obj, '--prog', 'tc_verdicts', '--pcap', file, '--json', '--repeat', '10']);
    assert.equal(json.status, 0, json.stderr);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; verdict?: string; counts?: Record<string, number> });
    assert.deepEqual(lines.filter((l) => l.type === 'packet').map((l) => l.verdict), EXPECTED.tc_verdicts);
    assert.deepEqual(lines.at(-1)!.counts, { TC_ACT_SHOT: 1, TC_ACT_OK: 4, error: 2 });

    const noProg = run([obj, '--prog', 'nope', '--pcap', file]);
    assert.notEqual(noProg.status, 0);
    assert.match(noProg.stderr, /no program 'nope'/);
    const noFile = run([obj, '--prog', 'xdp_verdicts', '--pcap', join(dir, 'missing.pcap')]);
    assert.notEqual(noFile.status, 0);
    assert.match(noFile.stderr, /cannot read pcap .*ENOENT/);
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]));
    const bad = run([obj, '--prog', 'xdp_verdicts', '--pcap', junk]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /pcap|magic|format/i);
    const noArgs = run([obj]);
    assert.notEqual(noArgs.status, 0);
    assert.match(noArgs.stderr, /--prog/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('truncated and corrupted pcaps: a clear error or the packets before the damage, never a crash', (t) => {
  if (!needsRoot(t)) return;
  const obj = buildObject('test/net-tools/fixtures/verdicts.bpf.c');
  const good = pcapBytes();
  for (let cut = 0; cut < good.length; cut += 7) {
    try {
      const r = testRunPcap(obj, 'tc_verdicts', good.subarray(0, cut));
      assert.ok(r.packets.length <= 7);
    } catch (e) {
      assert.ok(e instanceof PcapFormatError, `cut at ${cut}: ${e}`);
    }
  }
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 40; i++) {
    const b = good.slice();
    for (let k = 0; k < 6; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    try {
      testRunPcap(obj, 'xdp_verdicts', b);
    } catch (e) {
      assert.ok(e instanceof PcapFormatError || /link type/.test((e as Error).message), String(e));
    }
  }
});
