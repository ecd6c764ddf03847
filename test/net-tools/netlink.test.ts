// The rtnetlink client and the netlink attachments: message encoding (with malformed and fuzzed
// input), XDP by IFLA_XDP in generic and native mode, cls_bpf on clsact, root qdisc replace and
// restore — each checked with iproute2's own view (ip link, tc) — and what SIGKILL leaves behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { encodeAttrs, decodeAttrs, attr, splitMessages, parseError, NLMSG_ERROR, NLM_F } from '../../src/sys/netlink.js';
import { attachXdpNetlink, attachTcNetlink, xdpState, tcFilters, qdiscs, replaceRootQdisc } from '../../src/link/netlink.js';
import { pendingCleanups } from '../../src/sys/cleanup.js';
import { SyscallError } from '../../src/sys/errors.js';
import { Collection } from '../../src/kernel/collection.js';
import { needsRoot, needsCommand } from '../helpers/kernel.js';
import { buildObject } from '../helpers/objects.js';
import { assertGone } from '../kernel/leaks.js';
import { topology, CLI } from './topology.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sh = (...args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });

test('netlink attributes: nested round trip; malformed and random input never crash', () => {
  const inner = [attr.u32(1, 0xdeadbeef), attr.str(7, 'prog'), attr.i32(3, -1)];
  const bytes = encodeAttrs([attr.nested(2, inner), attr.str(1, 'bpf')]);
  assert.equal(bytes.length % 4, 0);
  const top = decodeAttrs(bytes);
  assert.deepEqual(top.map((a) => a.type), [2, 1]); // NLA_F_NESTED stripped
  const back = decodeAttrs(top[0]!.data);
  assert.deepEqual(back.map((a) => a.type), [1, 7, 3]);
  assert.deepEqual([...back[1]!.data], [...new TextEncoder().encode('prog'), 0]);
  // a length running past the end, and one under the header, stop the walk
  assert.deepEqual(decodeAttrs(new Uint8Array([8, 0, 1, 0, 1, 2])), []);
  assert.deepEqual(decodeAttrs(new Uint8Array([2, 0, 1, 0, 8, 0, 1, 0, 0, 0, 0, 0])), []);
  assert.equal(decodeAttrs(bytes.subarray(0, bytes.length - 1)).length, 1);
  // an ack with an extended-ack message
  const err = new Uint8Array(4 + 16 + 12);
  const v = new DataView(err.buffer);
  v.setInt32(0, -22, true);
  v.setUint32(4, 16, true);
  err.set(encodeAttrs([attr.str(1, 'bad fd')]).subarray(0, 12), 20);
  const parsed = parseError({ type: NLMSG_ERROR, flags: NLM_F.CAPPED | NLM_F.ACK_TLVS, seq: 1, payload: err });
  assert.deepEqual(parsed, { errno: 22, message: 'bad fd' });
  assert.equal(parseError({ type: NLMSG_ERROR, flags: 0, seq: 1, payload: new Uint8Array(2) }).errno, 5);
  // fuzz
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 3000; i++) {
    const b = new Uint8Array(Math.floor(rnd() * 64));
    for (let k = 0; k < b.length; k++) b[k] = rnd() < 0.3 ? 0 : Math.floor(rnd() * 256);
    for (const a of decodeAttrs(b)) assert.ok(a.data.length <= b.length);
    for (const m of splitMessages(b)) {
      assert.ok(m.payload.length <= b.length);
      if (m.type === NLMSG_ERROR) parseError(m);
    }
  }
});

test('XDP by netlink: generic and native mode seen by ip link, detached by close and by the exit cleanup', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('nx');
  const coll = Collection.load(buildObject('test/net-tools/fixtures/verdicts.bpf.c'), { programs: ['xdp_count', 'xdp_verdicts'] });
  const ids = { programs: [...coll.programs.values()].map((p) => p.id), maps: [...coll.maps.values()].map((m) => m.id) };
  try {
    const prog = coll.program('xdp_count');
    for (const [mode, shown] of [['generic', 'xdpgeneric'], ['native', 'xdp']] as const) {
      const link = attachXdpNetlink(prog, topo.host, { mode });
      const st = xdpState(topo.host);
      assert.equal(st.progId, prog.id, mode);
      assert.equal(mode === 'generic' ? st.skbProgId : st.drvProgId, prog.id);
      assert.match(sh('ip', 'link', 'show', 'dev', topo.host), new RegExp(`\\b${shown}\\b`));
      assert.ok(pendingCleanups().some((c) => c.includes(`xdp (netlink) ${topo.host}`)), 'removal registered for exit');
      // traffic reaches it
      const before = (coll.map('seen').get(0) as bigint | number | undefined) ?? 0;
      topo.exec('A', ['ping', '-c', '2', '-i', '0.2', '-W', '1', topo.host4]);
      assert.ok(Number(coll.map('seen').get(0)) >= Number(before) + 2, 'the program saw the pings');
      // a second attach without replace fails clearly and leaves ours in place
      assert.throws(() => attachXdpNetlink(prog, topo.host, { mode }), (e: unknown) => e instanceof SyscallError && /XDP/.test(e.message));
      link.close();
      assert.equal(xdpState(topo.host).progId, 0, 'detached');
      assert.doesNotMatch(sh('ip', 'link', 'show', 'dev', topo.host), /\bxdp/);
      assert.ok(!pendingCleanups().some((c) => c.includes(`xdp (netlink) ${topo.host}`)));
    }
    // someone else replaced our program meanwhile: our detach (compare-and-swap on the fd) leaves theirs
    const ours = attachXdpNetlink(prog, topo.host, { mode: 'generic' });
    const theirs = attachXdpNetlink(coll.program('xdp_verdicts'), topo.host, { mode: 'generic', replace: true });
    ours.close();
    assert.equal(xdpState(topo.host).progId, coll.program('xdp_verdicts').id, 'the replacement stays');
    theirs.close();
    assert.equal(xdpState(topo.host).progId, 0);
  } finally {
    coll.close();
    topo.close();
  }
  await assertGone('prog', ids.programs);
  await assertGone('map', ids.maps);
});

test('tc by netlink: clsact + direct-action cls_bpf at ingress and egress, shown by tc, removed with the qdisc we added', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'tc')) return;
  const topo = topology('nt');
  const coll = Collection.load(buildObject('test/net-tools/fixtures/verdicts.bpf.c'), { programs: ['tc_count'] });
  try {
    const prog = coll.program('tc_count');
    const ing = attachTcNetlink(prog, topo.host, 'ingress', { name: 'tc_count_in' });
    const eg = attachTcNetlink(prog, topo.host, 'egress', { name: 'tc_count_out', prio: 2 });
    assert.match(sh('tc', 'qdisc', 'show', 'dev', topo.host), /qdisc clsact ffff:/);
    assert.match(sh('tc', 'filter', 'show', 'dev', topo.host, 'ingress'), new RegExp(`tc_count_in direct-action.* id ${prog.id}`));
    assert.match(sh('tc', 'filter', 'show', 'dev', topo.host, 'egress'), /pref 2 bpf .*tc_count_out direct-action/);
    assert.deepEqual(tcFilters(topo.host, 'ingress').map((f) => [f.kind, f.name, f.progId]), [['bpf', 'tc_count_in', prog.id]]);
    topo.exec('A', ['ping', '-c', '2', '-i', '0.2', '-W', '1', topo.host4]);
    assert.ok(Number(coll.map('seen').get(0)) >= 4, 'both directions saw the pings');
    ing.close();
    assert.equal(sh('tc', 'filter', 'show', 'dev', topo.host, 'ingress').trim(), '');
    assert.ok(qdiscs(topo.host).some((q) => q.kind === 'clsact'), 'kept while our egress filter is on it');
    eg.close();
    assert.ok(!qdiscs(topo.host).some((q) => q.kind === 'clsact'), 'the clsact we added is gone with our last filter');
    // a clsact that was there before us stays
    sh('tc', 'qdisc', 'add', 'dev', topo.host, 'clsact');
    attachTcNetlink(prog, topo.host, 'ingress').close();
    assert.ok(qdiscs(topo.host).some((q) => q.kind === 'clsact'));
    assert.throws(() => attachTcNetlink(prog, 'nosuchif0', 'ingress'), /nosuchif0/);
  } finally {
    coll.close();
    topo.close();
  }
});

test('root qdisc replaced and restored: the default one, and a configured one with its parameters', (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'tc')) return;
  const topo = topology('nq');
  try {
    const htbInit = new Uint8Array(20);
    new DataView(htbInit.buffer).setUint32(0, 3, true); // version
    new DataView(htbInit.buffer).setUint32(4, 10, true); // rate2quantum
    const htb = [{ type: 2 /* TCA_HTB_INIT */, data: htbInit }];
    const r = replaceRootQdisc(topo.host, 'htb', htb);
    assert.equal(r.previous?.kind, 'noqueue');
    assert.match(sh('tc', 'qdisc', 'show', 'dev', topo.host), /qdisc htb \S+ root/);
    r.restore();
    assert.match(sh('tc', 'qdisc', 'show', 'dev', topo.host), /qdisc noqueue 0: root/);
    sh('tc', 'qdisc', 'add', 'dev', topo.host, 'root', 'handle', '5:', 'tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms');
    const tbfBefore = sh('tc', 'qdisc', 'show', 'dev', topo.host);
    const r2 = replaceRootQdisc(topo.host, 'htb', htb);
    assert.doesNotMatch(sh('tc', 'qdisc', 'show', 'dev', topo.host), /tbf/);
    r2.restore();
    assert.equal(sh('tc', 'qdisc', 'show', 'dev', topo.host), tbfBefore, 'tbf back with its rate, burst and handle');
    // fq (what EDT pacing needs) where the kernel has it; else a clear error naming the module
    try {
      replaceRootQdisc(topo.host, 'fq').restore();
    } catch (e) {
      assert.match((e as Error).message, /no "fq" qdisc \(module sch_fq missing\?\)/);
    }
    assert.equal(sh('tc', 'qdisc', 'show', 'dev', topo.host), tbfBefore);
  } finally {
    topo.close();
  }
});

test('SIGKILL: a netlink tc filter stays on the interface (kernel semantics); SIGTERM removes it', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'tc')) return;
  const topo = topology('nk');
  try {
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      const child = spawn(process.execPath, [...CLI, 'tc-limit', topo.host, '--ingress', '--rate', '10mbit', '--netlink'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const done = new Promise<number | null>((r) => child.on('close', r));
      for (let i = 0; i < 200 && !/limited to/.test(err); i++) await sleep(50);
      assert.match(err, /clsact, netlink/);
      assert.match(sh('tc', 'filter', 'show', 'dev', topo.host, 'ingress'), /tc_limit/);
      child.kill(sig);
      await done;
      const left = sh('tc', 'filter', 'show', 'dev', topo.host, 'ingress');
      if (sig === 'SIGTERM') {
        assert.equal(left.trim(), '', 'SIGTERM ran the cleanup');
        assert.ok(!qdiscs(topo.host).some((q) => q.kind === 'clsact'));
      } else {
        // nothing runs on SIGKILL: the filter (and the program it holds) stay, until the next
        // tc-limit on the interface finds them (its owner record says who left them) and removes them
        assert.match(left, /tc_limit/);
        const next = spawnSync(process.execPath, [...CLI, 'tc-limit', topo.host, '--ingress', '--rate', '10mbit', '--netlink', '--duration', '0.5'], { encoding: 'utf8' });
        assert.equal(next.status, 0, next.stderr);
        assert.match(next.stderr, new RegExp(`found what pid ${child.pid} \\(no longer running\\) left on ${topo.host}: cls_bpf filter tc_limit \\(program \\d+\\) on clsact ingress, clsact qdisc; removed`));
        assert.equal(sh('tc', 'filter', 'show', 'dev', topo.host, 'ingress').trim(), '');
        assert.ok(!qdiscs(topo.host).some((q) => q.kind === 'clsact'));
      }
    }
  } finally {
    topo.close();
  }
});
