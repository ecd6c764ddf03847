// tc-limit against real TCP traffic (iperf3) through a veth into a namespace: the measured
// throughput is within 5% of the target, egress and ingress, tcx and the netlink clsact path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcLimiter, parseRate, formatRate, RateError } from '../../src/tools/tc-limit/index.js';
import { tcFilters, qdiscs } from '../../src/link/netlink.js';
import { listPrograms } from '../../src/sys/info.js';
import { assertGone } from '../kernel/leaks.js';
import { needsRoot, needsCommand } from '../helpers/kernel.js';
import { topology, CLI, type Topology } from '../net-tools/topology.js';
import { Collection } from '../../src/kernel/collection.js';
import { toolObjectPath } from '../../src/tools/common/object.js';
import { ether, ipv4, udp, ETH_P_IP, IPPROTO } from '../../src/net/craft.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** iperf3 from this namespace to A or B (or back with reverse): received bits/s after `omit` s of warm-up. */
async function iperf(t: Topology, o: { reverse?: boolean; seconds?: number; omit?: number; to?: 'A' | 'B' } = {}): Promise<number> {
  const to = o.to ?? 'A';
  const addr = to === 'A' ? t.a4 : t.b4;
  const port = String(20000 + (process.pid % 10000) + (to === 'B' ? 1 : 0));
  const srv = spawn('ip', ['netns', 'exec', to === 'A' ? t.nsA : t.nsB, 'iperf3', '-s', '-B', addr, '-p', port], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      if (t.exec(to, ['ss', '-ltnH', `sport = :${port}`]).trim()) break;
      if (i > 50) throw new Error('iperf3 server did not start');
      await sleep(100);
    }
    const args = ['-c', addr, '-p', port, '-t', String(o.seconds ?? 5), '-O', String(o.omit ?? 2), '-J', ...(o.reverse ? ['-R'] : [])];
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn('iperf3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      c.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      c.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`iperf3 exited ${code}: ${text}`))));
    });
    return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  } finally {
    srv.kill('SIGKILL');
  }
}

async function gone(ids: { programs: number[]; maps: number[] }): Promise<void> {
  await assertGone('prog', ids.programs);
  await assertGone('map', ids.maps);
}

test("rates in tc's units", () => {
  const cases: [string, number][] = [
    ['10mbit', 10e6], ['1gbit', 1e9], ['500kbps', 4e6], ['1.5mbit', 1.5e6], ['800', 800], ['100bit', 100],
    ['2Mbit', 2e6], ['1kibit', 1024], ['1mibps', 8 * 1024 * 1024], ['3tbit', 3e12], ['.5mbit', 5e5], ['12bps', 96],
  ];
  for (const [s, bits] of cases) assert.equal(parseRate(s), bits, s);
  for (const bad of ['', 'fast', '10 megabit', '-5mbit', '1e6bit', '0', '3bit', '10mbit/s', '100tbit']) assert.throws(() => parseRate(bad), RateError, bad);
  assert.equal(formatRate(50e6), '50Mbit');
  assert.equal(formatRate(1.5e9), '1.5Gbit');
});

test('EDT: departure times move on by each packet length at the rate (BPF_PROG_TEST_RUN; no fq needed)', (t) => {
  if (!needsRoot(t)) return;
  const rateBytes = 1_000_000; // 8 Mbit/s: a 1000-byte packet takes 1 ms
  using coll = Collection.load(toolObjectPath('tc-limit'), { constants: { rate_bytes: BigInt(rateBytes), burst_bytes: 65536n, edt: true, horizon_ns: 10_000_000n } });
  const prog = coll.program('tc_limit');
  const pkt = ether({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', type: ETH_P_IP }, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO.UDP }, udp({ sport: 1, dport: 2 }, new Uint8Array(1000 - 42))));
  assert.equal(pkt.length, 1000);
  const SKB_TSTAMP = 152; // offsetof(struct __sk_buff, tstamp)
  const stamps: bigint[] = [];
  const verdicts: number[] = [];
  for (let i = 0; i < 14; i++) {
    const r = prog.testRun(pkt, { ctx: new Uint8Array(192), ctxOutSize: 192 });
    verdicts.push(r.retval);
    stamps.push(new DataView(r.ctx!.buffer, r.ctx!.byteOffset).getBigUint64(SKB_TSTAMP, true));
  }
  // the first leaves now; each later one 1 ms after the one before, until the 10 ms horizon: dropped
  assert.equal(stamps[0], 0n);
  const delayed = stamps.slice(1, 11);
  assert.ok(delayed.every((s) => s > 0n));
  for (let i = 1; i < delayed.length; i++) assert.equal(delayed[i]! - delayed[i - 1]!, 1_000_000n);
  assert.deepEqual(verdicts.slice(0, 11), new Array(11).fill(0)); // TC_ACT_OK
  assert.ok(verdicts.slice(11).every((v) => v === 2), `beyond the horizon: TC_ACT_SHOT (${verdicts})`);
  const stats = coll.map('stats');
  const sum = (i: number): number => (stats.getPerCpu(i) as { packets: number | bigint }[]).reduce((n, c) => n + Number(c.packets), 0);
  assert.deepEqual([sum(0), sum(1), sum(2)], [1, 10, 3]);
});

test('egress limit (tcx): iperf3 throughput within 5% of 50mbit; nothing left after close', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'iperf3')) return;
  const topo = topology('te');
  try {
    const target = parseRate('50mbit');
    const free = await iperf(topo, { seconds: 2, omit: 0 });
    const lim = await TcLimiter.open(topo.host, { direction: 'egress', rate: target });
    const ids = lim.kernelIds();
    let got: number;
    try {
      assert.match(lim.attachment, /tcx egress/);
      got = await iperf(topo);
      const s = lim.stats();
      t.diagnostic(`unlimited ${(free / 1e6).toFixed(0)} Mbit/s; limited ${(got / 1e6).toFixed(2)} Mbit/s (${lim.mode}); stats ${JSON.stringify(s)}`);
      assert.ok(s.pass.packets > 0);
      if (lim.mode === 'police') assert.ok(s.drop.packets > 0, 'the policer dropped');
    } finally {
      lim.close();
    }
    assert.ok(free > target * 2, `the link alone is faster than the limit (${free})`);
    assert.ok(Math.abs(got - target) / target <= 0.05, `${(got / 1e6).toFixed(2)} Mbit/s vs ${target / 1e6}`);
    await gone(ids);
    // and the limit is gone: full speed again
    assert.ok((await iperf(topo, { seconds: 2, omit: 0 })) > target * 2);
    assert.deepEqual(qdiscs(topo.host).filter((q) => q.kind === 'fq'), [], 'no fq left behind');
  } finally {
    topo.close();
  }
});

test('ingress limit (clsact by netlink): within 5% of 30mbit; the filter shows in tc and goes away', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'iperf3') || !needsCommand(t, 'tc')) return;
  const topo = topology('ti');
  try {
    const target = parseRate('30mbit');
    const lim = await TcLimiter.open(topo.host, { direction: 'ingress', rate: target, netlink: true });
    let got: number;
    try {
      assert.match(lim.attachment, /clsact, netlink/);
      const shown = execFileSync('tc', ['filter', 'show', 'dev', topo.host, 'ingress'], { encoding: 'utf8' });
      assert.match(shown, /tc_limit.*direct-action|direct-action.*tc_limit/);
      assert.equal(tcFilters(topo.host, 'ingress').length, 1);
      got = await iperf(topo, { reverse: true });
      t.diagnostic(`ingress ${(got / 1e6).toFixed(2)} Mbit/s; ${JSON.stringify(lim.stats())}`);
    } finally {
      lim.close();
    }
    assert.ok(Math.abs(got - target) / target <= 0.05, `${(got / 1e6).toFixed(2)} Mbit/s vs ${target / 1e6}`);
    assert.equal(execFileSync('tc', ['filter', 'show', 'dev', topo.host, 'ingress'], { encoding: 'utf8' }).trim(), '');
    assert.equal(qdiscs(topo.host).some((q) => q.kind === 'clsact'), false, 'the clsact qdisc we added is removed');
  } finally {
    topo.close();
  }
});

test('per-IP egress limit: two destinations at once, each gets the rate', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'iperf3')) return;
  const topo = topology('tp');
  try {
    const target = parseRate('20mbit');
    using lim = await TcLimiter.open(topo.host, { direction: 'egress', rate: target, perIp: true });
    const [a, b] = await Promise.all([iperf(topo, { to: 'A' }), iperf(topo, { to: 'B' })]);
    t.diagnostic(`per-ip: to A ${(a / 1e6).toFixed(2)} Mbit/s, to B ${(b / 1e6).toFixed(2)} Mbit/s; ${JSON.stringify(lim.stats())}`);
    for (const got of [a, b]) assert.ok(Math.abs(got - target) / target <= 0.05, `${(got / 1e6).toFixed(2)} Mbit/s vs ${target / 1e6}`);
  } finally {
    topo.close();
  }
});

/** A cgroup v2 mount: the system's, else one mounted for the test (the hierarchy is the same one). */
function cgroup2(): { root: string; done: () => void } {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  const found = mounts.find((f) => f[2] === 'cgroup2')?.[1];
  if (found) return { root: found, done: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cgroup2-'));
  execFileSync('mount', ['-t', 'cgroup2', 'none', dir]);
  return { root: dir, done: () => { execFileSync('umount', [dir]); rmSync(dir, { recursive: true, force: true }); } };
}

test('--cgroup: only sockets of the cgroup are limited at egress', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'iperf3')) return;
  const cg = cgroup2();
  const dir = join(cg.root, `tsbpf-tclimit-${process.pid}`);
  const topo = topology('tg');
  try {
    mkdirSync(dir);
    const target = parseRate('20mbit');
    using lim = await TcLimiter.open(topo.host, { direction: 'egress', rate: target, cgroup: dir });
    // iperf3 run inside the cgroup: limited
    const port = String(21000 + (process.pid % 10000));
    const srv = spawn('ip', ['netns', 'exec', topo.nsA, 'iperf3', '-s', '-B', topo.a4, '-p', port], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !topo.exec('A', ['ss', '-ltnH', `sport = :${port}`]).trim(); i++) await sleep(100);
      const inCg = JSON.parse(execFileSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec iperf3 -c ${topo.a4} -p ${port} -t 5 -O 2 -J`], { encoding: 'utf8', timeout: 60_000 }));
      const outside = JSON.parse(execFileSync('iperf3', ['-c', topo.a4, '-p', port, '-t', '2', '-J'], { encoding: 'utf8', timeout: 60_000 }));
      const got = inCg.end.sum_received.bits_per_second as number;
      const free = outside.end.sum_received.bits_per_second as number;
      t.diagnostic(`in the cgroup ${(got / 1e6).toFixed(2)} Mbit/s, outside ${(free / 1e6).toFixed(0)} Mbit/s; ${JSON.stringify(lim.stats())}`);
      assert.ok(Math.abs(got - target) / target <= 0.05, `${(got / 1e6).toFixed(2)} Mbit/s vs ${target / 1e6}`);
      assert.ok(free > target * 2, 'sockets outside the cgroup are not limited');
      assert.ok(lim.stats().skip.packets > 0);
    } finally {
      srv.kill('SIGKILL');
    }
  } finally {
    topo.close();
    try {
      rmdirSync(dir);
    } catch {
      // the shell that moved into it may linger a moment
    }
    cg.done();
  }
});

test('tsbpf tc-limit: --stats --json lines while traffic flows, the limit gone after --duration; argument errors', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('tc');
  const run = (args: string[]) => spawnSync(process.execPath, [...CLI, 'tc-limit', ...args], { encoding: 'utf8', timeout: 60_000 });
  try {
    const child = spawn(process.execPath, [...CLI, 'tc-limit', topo.host, '--egress', '--rate', '1.5mbit', '--stats', '--interval', '0.5', '--json', '--duration', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const done = new Promise<number | null>((r) => child.on('close', r));
    for (let i = 0; i < 200 && !/limited to/.test(err); i++) await sleep(50);
    assert.match(err, /egress of \S+ limited to 1\.5Mbit \((policing|EDT pacing with fq), tcx egress/);
    topo.exec('A', ['ping', '-c', '4', '-i', '0.2', '-W', '1', topo.host4]);
    assert.equal(await done, 0, err);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; pass?: { packets: number }; mode?: string; rate?: number });
    assert.ok(lines.filter((l) => l.type === 'stats').length >= 2);
    const sum = lines.at(-1)!;
    assert.equal(sum.type, 'summary');
    assert.equal(sum.rate, 1.5e6);
    assert.ok(sum.pass!.packets >= 4, 'the ping replies went through the limiter');
    assert.deepEqual(tcFilters(topo.host, 'egress'), []);
    assert.equal(execFileSync('bpftool', ['net', 'show', 'dev', topo.host], { encoding: 'utf8' }).includes('tc_limit'), false, 'tcx link gone');

    for (const [args, msg] of [
      [[topo.host, '--rate', '10mbit'], /exactly one of --egress and --ingress/],
      [[topo.host, '--egress', '--ingress', '--rate', '10mbit'], /exactly one of --egress and --ingress/],
      [[topo.host, '--egress', '--rate', '10 megabits'], /invalid rate "10 megabits"/],
      [[topo.host, '--egress'], /--rate/],
      [['nosuchif0', '--egress', '--rate', '1mbit'], /nosuchif0/],
      [[topo.host, '--ingress', '--rate', '1mbit', '--cgroup', '/'], /egress only/],
    ] as const) {
      const r = run([...args]);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, msg);
    }
  } finally {
    topo.close();
  }
});

test('tc-limit errors: unknown interface, bad rate, cgroup at ingress — nothing left attached', async (t) => {
  if (!needsRoot(t)) return;
  const before = new Set(listPrograms().map((p) => p.id));
  await assert.rejects(TcLimiter.open('nosuchif0', { direction: 'egress', rate: 1e6 }), /nosuchif0/);
  await assert.rejects(TcLimiter.open('lo', { direction: 'egress', rate: 0 }), /invalid rate/);
  await assert.rejects(TcLimiter.open('lo', { direction: 'ingress', rate: 1e6, cgroup: '/' }), /egress only/);
  await assert.rejects(TcLimiter.open('lo', { direction: 'up' as 'egress', rate: 1e6 }), /direction/);
  assert.deepEqual(listPrograms().filter((p) => !before.has(p.id) && p.name === 'tc_limit'), []);
});
