// xdp-shield against real traffic: namespaces A and B send ICMP, TCP and UDP (IPv4 and IPv6) to an
// interface of this namespace that carries the shield (topology in test/net-tools/topology.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { XdpShield, ShieldControl, parseCidr, formatCidr, CidrError } from '../../src/tools/xdp-shield/index.js';
import { listPrograms } from '../../src/sys/info.js';
import { assertGone } from '../kernel/leaks.js';
import { needsRoot, needsCommand } from '../helpers/kernel.js';
import { managementSources } from '../../src/tools/xdp-shield/cli.js';
import { ether, ipv4, ipv6, udp, tcp, ETH_P_IP, ETH_P_IPV6, IPPROTO } from '../../src/net/craft.js';
import { topology, CONNECT_PY, UDP_PY, SYN_FLOOD_PY, type Topology } from '../net-tools/topology.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** TCP and UDP servers on the host addresses, counting what arrives per source address. */
async function servers(t: Topology): Promise<{ tcpPort: number; udpPort: number; tcp: Map<string, number>; udp: Map<string, number>; close(): void }> {
  const tcp = new Map<string, number>();
  const udp = new Map<string, number>();
  const norm = (a: string | undefined): string => (a ?? '').replace(/^::ffff:/, '');
  const srv: Server = createServer((s) => {
    tcp.set(norm(s.remoteAddress), (tcp.get(norm(s.remoteAddress)) ?? 0) + 1);
    s.on('error', () => {});
    s.resume();
  });
  await new Promise<void>((r) => srv.listen({ port: 0, host: '::', ipv6Only: false }, r));
  const tcpPort = (srv.address() as { port: number }).port;
  const u: Socket = createSocket({ type: 'udp6', ipv6Only: false });
  u.on('message', (_m, r) => udp.set(norm(r.address), (udp.get(norm(r.address)) ?? 0) + 1));
  await new Promise<void>((r) => u.bind(0, '::', r));
  const udpPort = u.address().port;
  return { tcpPort, udpPort, tcp, udp, close: () => { srv.close(); u.close(); } };
}

function ping(t: Topology, ns: 'A' | 'B', dst: string, n = 3): number {
  try {
    const out = t.exec(ns, ['ping', ...(dst.includes(':') ? ['-6'] : []), '-c', String(n), '-i', '0.2', '-W', '1', dst]);
    return Number(/(\d+) received/.exec(out)?.[1] ?? 0);
  } catch (e) {
    return Number(/(\d+) received/.exec(String((e as { stdout?: string }).stdout))?.[1] ?? 0);
  }
}

const connects = (t: Topology, ns: 'A' | 'B', host: string, port: number, n: number, timeout = 1): number =>
  Number(t.exec(ns, ['python3', '-c', CONNECT_PY, host, String(port), String(n), String(timeout)]).trim());

function sendUdp(t: Topology, ns: 'A' | 'B', host: string, port: number, n: number, gap = 0.005): void {
  t.exec(ns, ['python3', '-c', UDP_PY, host, String(port), String(n), String(gap)]);
}

test('CIDR parsing: IPv4 and IPv6, host bits cleared, clear errors for bad input', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/8')), '10.0.0.0/8');
  assert.equal(formatCidr(parseCidr('192.0.2.7')), '192.0.2.7/32');
  assert.equal(formatCidr(parseCidr('2001:db8:0:0:1::1/64')), '2001:db8::/64');
  assert.equal(formatCidr(parseCidr('::1')), '::1/128');
  // RFC 5952 section 5: an IPv4-mapped address keeps its dotted quad, as inet_ntop prints it
  assert.equal(formatCidr(parseCidr('::ffff:10.0.0.1/128')), '::ffff:10.0.0.1/128');
  assert.equal(formatCidr(parseCidr('0.0.0.0/0')), '0.0.0.0/0');
  for (const bad of ['', '10.0.0.256', '10.0.0/8', '10.0.0.0/33', '1::2::3', 'fe80::/129', 'host.example', '10.0.0.1/-1', '1:2:3:4:5:6:7:8:9', '12345::', '10.0.0.0/8/8']) {
    assert.throws(() => parseCidr(bad), CidrError, bad);
  }
  // fuzz: random strings never crash with anything but a CidrError
  const alphabet = '0123456789abcdef:./x ';
  for (let i = 0; i < 2000; i++) {
    let s = '';
    for (let j = Math.floor(Math.random() * 20); j > 0; j--) s += alphabet[Math.floor(Math.random() * alphabet.length)];
    try {
      const c = parseCidr(s);
      assert.ok(c.prefixLen <= c.addr.length * 8);
    } catch (e) {
      assert.ok(e instanceof CidrError, `${s}: ${e}`);
    }
  }
});

test('blocked sources get nothing through (ICMP, TCP, UDP; IPv4 and IPv6) and the counters say so; others pass', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'ping')) return;
  const topo = topology('xs');
  const srv = await servers(topo);
  let ids: { programs: number[]; maps: number[] } | undefined;
  try {
    using shield = await XdpShield.open(topo.host, { block: [`${topo.a4}/32`, `${topo.a6}/128`], mode: 'generic' });
    ids = shield.kernelIds();
    assert.ok(existsSync(`${shield.pinDir}/block4`), 'maps pinned for run-time control');
    assert.equal(ping(topo, 'A', topo.host4), 0, 'A ping v4 blocked');
    assert.equal(ping(topo, 'A', topo.host6), 0, 'A ping v6 blocked');
    assert.equal(ping(topo, 'B', topo.host4), 3, 'B ping v4 passes');
    assert.equal(ping(topo, 'B', topo.host6), 3, 'B ping v6 passes');
    assert.equal(connects(topo, 'A', topo.host4, srv.tcpPort, 2, 0.5), 0, 'A TCP v4 blocked');
    assert.equal(connects(topo, 'A', topo.host6, srv.tcpPort, 2, 0.5), 0, 'A TCP v6 blocked');
    assert.equal(connects(topo, 'B', topo.host4, srv.tcpPort, 5), 5, 'B TCP v4 passes');
    assert.equal(connects(topo, 'B', topo.host6, srv.tcpPort, 5), 5, 'B TCP v6 passes');
    sendUdp(topo, 'A', topo.host4, srv.udpPort, 20);
    sendUdp(topo, 'B', topo.host4, srv.udpPort, 20);
    sendUdp(topo, 'A', topo.host6, srv.udpPort, 20);
    await sleep(200);
    assert.equal(srv.udp.get(topo.a4) ?? 0, 0);
    assert.equal(srv.udp.get(topo.a6) ?? 0, 0);
    assert.equal(srv.udp.get(topo.b4), 20);
    assert.equal(srv.tcp.get(topo.a4) ?? 0, 0);
    assert.equal(srv.tcp.get(topo.b4), 5);

    const acts = shield.actions();
    // 3+3 pings, 20+20 UDP datagrams, and TCP SYNs with their retransmissions
    assert.ok(acts.block.packets >= 6 + 40 + 4, `block counter ${acts.block.packets}`);
    assert.ok(acts.pass.packets >= 6 + 20 + 10, `pass counter ${acts.pass.packets}`);
    assert.equal(acts['syn-rate'].packets, 0);
    const rules = shield.rules();
    const r4 = rules.find((r) => r.cidr === `${topo.a4}/32`)!;
    const r6 = rules.find((r) => r.cidr === `${topo.a6}/128`)!;
    assert.equal(r4.kind, 'block');
    assert.ok(r4.packets >= 3 + 20 + 2, `v4 rule ${r4.packets}`);
    assert.ok(r6.packets >= 3 + 20 + 2, `v6 rule ${r6.packets}`);
    assert.equal(r4.packets + r6.packets, acts.block.packets, 'per-rule counters add up to the block action');
  } finally {
    srv.close();
    topo.close();
  }
  await assertGone('prog', ids!.programs);
  await assertGone('map', ids!.maps);
});

test('--allow beats --block; ARP always passes; rules change under traffic without a restart', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xr');
  const srv = await servers(topo);
  try {
    // everything of the test's 10.N/16 blocked, but B allowed
    const net16 = `${topo.host4.split('.').slice(0, 2).join('.')}.0.0/16`;
    using shield = await XdpShield.open(topo.host, { block: [net16], allow: [`${topo.b4}/32`], mode: 'generic' });
    assert.equal(connects(topo, 'B', topo.host4, srv.tcpPort, 3), 3, 'allowed B gets through the /16 block');
    assert.equal(connects(topo, 'A', topo.host4, srv.tcpPort, 1, 0.5), 0, 'A blocked');
    // ARP: flush A's neighbour entry and resolve again; the request and reply pass the shield
    topo.exec('A', ['ip', 'neigh', 'flush', 'dev', 'a0']);
    assert.equal(ping(topo, 'A', topo.host4, 1), 0);
    await sleep(100);
    assert.ok(shield.actions().arp.packets >= 1, 'ARP counted as passed');

    // run-time control from "another shell": the pinned maps
    const ctl = ShieldControl.open(topo.host);
    try {
      // a steady UDP stream from A while the block is lifted and put back
      const stream = topo.spawn('A', ['python3', '-c', UDP_PY, topo.host4, String(srv.udpPort), '300', '0.01']);
      const done = new Promise((r) => stream.on('close', r));
      await sleep(700);
      const before = srv.udp.get(topo.a4) ?? 0;
      assert.equal(ctl.remove('block', net16), true);
      await sleep(800);
      const during = srv.udp.get(topo.a4) ?? 0;
      ctl.add('block', net16);
      await sleep(300);
      const after = srv.udp.get(topo.a4) ?? 0;
      await sleep(700);
      const end = srv.udp.get(topo.a4) ?? 0;
      await done;
      assert.equal(before, 0, 'blocked before');
      assert.ok(during - before >= 40, `passed while unblocked: ${during - before}`);
      assert.ok(end - after <= 2, `blocked again: ${end - after} more after re-blocking`);
      // B kept working all along (allowed)
      assert.equal(connects(topo, 'B', topo.host4, srv.tcpPort, 3), 3);
      const status = ctl.rules().map((r) => `${r.kind} ${r.cidr}`).sort();
      assert.deepEqual(status, [`allow ${topo.b4}/32`, `block ${net16}`].sort());
      assert.throws(() => ctl.add('block', '10.0.0.1/99'), CidrError);
    } finally {
      ctl.close();
    }
  } finally {
    srv.close();
    topo.close();
  }
});

test("a SYN flood from A is held to its rate while B's connections succeed", async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xf');
  const srv = await servers(topo);
  try {
    const rate = 200;
    using shield = await XdpShield.open(topo.host, { synRate: rate, mode: 'generic' });
    const seconds = 3;
    const flood = topo.spawn('A', ['python3', '-c', SYN_FLOOD_PY, topo.host4, String(srv.tcpPort + 1 === 65536 ? 1 : 9), String(4000 * seconds), '4000']);
    let sentText = '';
    flood.stdout!.on('data', (d: Buffer) => (sentText += d.toString()));
    const floodDone = new Promise((r) => flood.on('close', r));
    await sleep(300);
    const okB = connects(topo, 'B', topo.host4, srv.tcpPort, 30, 2);
    await floodDone;
    const sent = Number(sentText.trim());
    const acts = shield.actions();
    const passedFromA = sent - acts['syn-rate'].packets;
    t.diagnostic(`flood: sent ${sent} SYNs, ${passedFromA} passed, ${acts['syn-rate'].packets} dropped; B connected ${okB}/30`);
    assert.equal(okB, 30, "B's connections all succeed during the flood");
    assert.ok(sent >= 4000 * seconds * 0.95, `flood sent ${sent}`);
    // one second of burst plus the rate over the flood's duration
    const allowed = rate + rate * seconds;
    assert.ok(passedFromA <= allowed * 1.1, `passed ${passedFromA} SYNs of ${sent}, allowed ~${allowed}`);
    assert.ok(passedFromA >= rate * seconds * 0.8, `passed ${passedFromA} SYNs, expected about ${allowed}`);
  } finally {
    srv.close();
    topo.close();
  }
});

test('--pps-rate: a UDP flood from A is held to its packet rate per source; B has its own bucket', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xq');
  const srv = await servers(topo);
  try {
    const rate = 100;
    using shield = await XdpShield.open(topo.host, { ppsRate: rate, ppsBurst: 50, mode: 'generic' });
    const seconds = 2;
    const t0 = Date.now();
    const flood = topo.spawn('A', ['python3', '-c', UDP_PY, topo.host4, String(srv.udpPort), String(1000 * seconds), '0.001']);
    await new Promise((r) => flood.on('close', r));
    const elapsed = (Date.now() - t0) / 1000;
    sendUdp(topo, 'B', topo.host4, srv.udpPort, 30, 0.02);
    await sleep(200);
    const gotA = srv.udp.get(topo.a4) ?? 0;
    t.diagnostic(`A sent ${1000 * seconds} in ${elapsed.toFixed(2)} s, ${gotA} passed; B 30 sent, ${srv.udp.get(topo.b4) ?? 0} passed; pps-rate drops ${shield.actions()['pps-rate'].packets}`);
    assert.ok(gotA <= 50 + rate * elapsed * 1.1 + 5, `A: ${gotA} passed`);
    assert.ok(gotA >= rate * elapsed * 0.7, `A: ${gotA} passed`);
    assert.equal(srv.udp.get(topo.b4), 30, 'B under its own rate: all pass');
    assert.ok(shield.actions()['pps-rate'].packets >= 1000 * seconds - gotA - 5);
  } finally {
    srv.close();
    topo.close();
  }
});

test('the per-CPU cache of verdicts follows every rule and rate change at once (BPF_PROG_TEST_RUN)', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xc');
  try {
    using shield = await XdpShield.open(topo.host, { mode: 'generic', block: ['10.9.0.0/16'] });
    const prog = shield.collection.program('xdp_shield');
    const mac = { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' };
    const v4 = (src: string, syn = false): Uint8Array =>
      ether({ ...mac, type: ETH_P_IP }, ipv4({ src, dst: '198.18.0.2', proto: syn ? IPPROTO.TCP : IPPROTO.UDP }, syn ? tcp({ sport: 4000, dport: 80, flags: 0x02 /* SYN */ }) : udp({ sport: 4000, dport: 9 }, new Uint8Array(18))));
    const v6 = (src: string): Uint8Array => ether({ ...mac, type: ETH_P_IPV6 }, ipv6({ src, dst: '2001:db8::2', nxt: IPPROTO.UDP }, udp({ sport: 4000, dport: 9 }, new Uint8Array(18))));
    const PASS = 2;
    const DROP = 1;
    // repeat 3: the first run fills this CPU's cache slot, the others are answered from it
    const verdict = (pkt: Uint8Array, repeat = 3): number => prog.testRun(pkt, { repeat }).retval;
    const a = v4('198.18.7.7');
    assert.equal(verdict(a), PASS);
    shield.block('198.18.7.0/24');
    assert.equal(verdict(a), DROP, 'blocked as soon as the rule is in');
    shield.allow('198.18.7.7/32');
    assert.equal(verdict(a), PASS, 'allow beats block at once');
    shield.disallow('198.18.7.7/32');
    assert.equal(verdict(a), DROP);
    shield.unblock('198.18.7.0/24');
    assert.equal(verdict(a), PASS, 'unblocked at once');
    assert.equal(verdict(v4('10.9.1.1')), DROP);
    // a source over its packet rate, answered from the cache until its bucket refills; a higher
    // rate set by another process (through the pinned maps) applies at once
    shield.maps.setConfig({ ppsRate: 1, ppsBurst: 2 });
    const b = v4('198.18.8.8');
    assert.equal(verdict(b, 2), PASS, 'the burst');
    assert.equal(verdict(b, 5), DROP, 'over the rate');
    const control = ShieldControl.open(topo.host);
    try {
      control.setConfig({ ppsRate: 1_000_000, ppsBurst: 1_000_000 });
    } finally {
      control.close();
    }
    assert.equal(verdict(b, 5), PASS, 'a fresh rate and burst apply at once');
    shield.maps.setConfig({ ppsRate: 0 });
    // IPv6 and a SYN rate likewise
    const c6 = v6('2001:db8:77::1');
    assert.equal(verdict(c6), PASS);
    shield.block('2001:db8:77::/48');
    assert.equal(verdict(c6), DROP);
    shield.unblock('2001:db8:77::/48');
    assert.equal(verdict(c6), PASS);
    shield.maps.setConfig({ synRate: 1, synBurst: 1 });
    const s = v4('198.18.9.9', true);
    assert.equal(verdict(s, 1), PASS);
    assert.equal(verdict(s, 4), DROP, 'SYNs over their rate');
    assert.equal(verdict(v4('198.18.9.9')), PASS, 'its UDP has no SYN rate');
    const acts = shield.actions();
    assert.ok(acts['syn-rate'].packets >= 4 && acts['pps-rate'].packets >= 5 && acts.block.packets >= 9, JSON.stringify(acts));
  } finally {
    topo.close();
  }
});

test('management traffic: the SSH client of the session is allowed unless --no-protect-mgmt', () => {
  assert.deepEqual(managementSources({ SSH_CONNECTION: '192.0.2.10 52144 192.0.2.1 22' }), ['192.0.2.10/32']);
  assert.deepEqual(managementSources({ SSH_CLIENT: '2001:db8::5 52144 22' }), ['2001:db8::5/128']);
  assert.deepEqual(managementSources({}), []);
  assert.deepEqual(managementSources({ SSH_CONNECTION: 'garbage' }), []);
});

test('bad CIDRs and unknown interfaces: clear errors, nothing left attached or pinned', async (t) => {
  if (!needsRoot(t)) return;
  const before = new Set(listPrograms().map((p) => p.id));
  await assert.rejects(XdpShield.open('nosuchif0', { block: ['10.0.0.0/8'] }), /nosuchif0/);
  const topo = topology('xe');
  try {
    await assert.rejects(XdpShield.open(topo.host, { block: ['10.0.0.0/40'] }), /invalid CIDR "10.0.0.0\/40"/);
    await assert.rejects(XdpShield.open(topo.host, { synRate: -1 }), /invalid SYN rate/);
    assert.equal(existsSync(`/sys/fs/bpf/tsbpf/xdp-shield/${topo.host}`), false);
    const s = await XdpShield.open(topo.host, {});
    await assert.rejects(XdpShield.open(topo.host, {}), /already runs/);
    s.close();
    assert.throws(() => ShieldControl.open(topo.host), /no shield on/);
  } finally {
    topo.close();
  }
  const added = listPrograms().filter((p) => !before.has(p.id) && p.name === 'xdp_shield');
  assert.deepEqual(added, []);
});
