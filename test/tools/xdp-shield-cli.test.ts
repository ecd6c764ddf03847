// `tsbpf xdp-shield` as a user runs it: a running shield changed from another process (block,
// unblock, status), live --stats, --pin surviving the process until `stop`, the netlink attachment
// undone on SIGTERM and left in place by SIGKILL (the kernel's semantics), and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { needsRoot } from '../helpers/kernel.js';
import { topology, CLI, type Topology } from '../net-tools/topology.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PIN_ROOT = '/sys/fs/bpf/tsbpf/xdp-shield';

function tsbpf(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function start(args: string[]): Promise<{ child: ChildProcess; out: () => string; err: () => string; done: Promise<number | null> }> {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/attached to/.test(err)) resolve();
    });
    void done.then(() => reject(new Error(`tsbpf exited early: ${err}`)));
  });
  return { child, out: () => out, err: () => err, done };
}

function pings(t: Topology, ns: 'A' | 'B', dst: string, n = 2): number {
  const r = spawnSync('ip', ['netns', 'exec', ns === 'A' ? t.nsA : t.nsB, 'ping', '-c', String(n), '-i', '0.2', '-W', '1', dst], { encoding: 'utf8' });
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
}

/** Polls `check` until it holds or `ms` pass: the kernel releases a dead process's files (and so
 *  its links) asynchronously, a moment after the parent saw it exit. */
async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await sleep(50);
  return check();
}

const xdpShown = (dev: string): boolean => /\bxdp(generic|drv)?\b/.test(execFileSync('ip', ['link', 'show', 'dev', dev], { encoding: 'utf8' }));

test('a running shield: rules changed from another process, status and live --stats', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xc');
  let run: Awaited<ReturnType<typeof start>> | undefined;
  try {
    run = await start(['xdp-shield', topo.host, '--block', `${topo.a4}/32`, '--stats', '--interval', '0.3', '--json', '--generic']);
    assert.ok(xdpShown(topo.host), 'ip link shows the XDP program');
    assert.equal(pings(topo, 'A', topo.host4), 0);
    assert.equal(pings(topo, 'B', topo.host4), 2);

    const b = tsbpf(['xdp-shield', topo.host, 'block', `${topo.b4}`]);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, new RegExp(`block ${topo.b4.replace(/\./g, '\\.')}/32 \\(rule \\d+\\)`));
    assert.equal(pings(topo, 'B', topo.host4), 0, 'B blocked without a restart');

    const st = tsbpf(['xdp-shield', topo.host, 'status', '--json']);
    assert.equal(st.status, 0, st.stderr);
    const status = JSON.parse(st.stdout) as { rules: { kind: string; cidr: string; packets: number }[]; actions: Record<string, { packets: number }> };
    assert.deepEqual(status.rules.map((r) => r.cidr).sort(), [`${topo.a4}/32`, `${topo.b4}/32`].sort());
    assert.ok(status.rules.every((r) => r.packets >= 2), JSON.stringify(status.rules));
    assert.ok(status.actions.block!.packets >= 4);

    const text = tsbpf(['xdp-shield', topo.host, 'status']);
    assert.match(text.stdout, /^ACTION\s+VERDICT\s+PACKETS/m);
    assert.match(text.stdout, new RegExp(`block\\s+${topo.b4.replace(/\./g, '\\.')}/32`));

    const u = tsbpf(['xdp-shield', topo.host, 'unblock', topo.b4]);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(pings(topo, 'B', topo.host4), 2, 'B passes again');
    const again = tsbpf(['xdp-shield', topo.host, 'unblock', topo.b4]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /no block rule/);

    await sleep(700);
    const lines = run.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; actions?: Record<string, { packets: number }> });
    assert.ok(lines.filter((l) => l.type === 'stats').length >= 2, 'periodic stats lines');
    assert.ok(lines.at(-1)!.actions!.block!.packets >= 4);

    run.child.kill('SIGINT');
    assert.equal(await run.done, 0);
    run = undefined;
    assert.equal(xdpShown(topo.host), false, 'detached on Ctrl+C');
    assert.equal(existsSync(`${PIN_ROOT}/${topo.host}`), false, 'pins removed');
    assert.equal(pings(topo, 'A', topo.host4), 2);
  } finally {
    run?.child.kill('SIGKILL');
    tsbpf(['xdp-shield', topo.host, 'stop']);
    topo.close();
  }
});

test('--pin keeps the shield after the process exits, until `stop`', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xp');
  try {
    const r = tsbpf(['xdp-shield', topo.host, '--block', `${topo.a4}/32`, '--pin', '--generic']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /pinned at/);
    assert.ok(existsSync(`${PIN_ROOT}/${topo.host}/link`));
    assert.ok(xdpShown(topo.host));
    assert.equal(pings(topo, 'A', topo.host4), 0, 'still blocking with no process');
    const st = JSON.parse(tsbpf(['xdp-shield', topo.host, 'status', '--json']).stdout) as { pinned: boolean };
    assert.equal(st.pinned, true);
    const s = tsbpf(['xdp-shield', topo.host, 'stop']);
    assert.equal(s.status, 0, s.stderr);
    await sleep(200);
    assert.equal(xdpShown(topo.host), false, 'detached by stop');
    assert.equal(pings(topo, 'A', topo.host4), 2);
    assert.notEqual(tsbpf(['xdp-shield', topo.host, 'stop']).status, 0, 'nothing left to stop');
  } finally {
    tsbpf(['xdp-shield', topo.host, 'stop']);
    topo.close();
  }
});

test('netlink attachment: SIGTERM detaches it; SIGKILL leaves it attached (kernel semantics)', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xn');
  try {
    const a = await start(['xdp-shield', topo.host, '--block', `${topo.a4}/32`, '--netlink', '--generic']);
    assert.match(execFileSync('ip', ['link', 'show', 'dev', topo.host], { encoding: 'utf8' }), /xdpgeneric/);
    assert.equal(pings(topo, 'A', topo.host4), 0);
    a.child.kill('SIGTERM');
    assert.equal(await a.done, 0, 'SIGTERM ends it like Ctrl+C');
    assert.equal(await eventually(() => !xdpShown(topo.host)), true, 'the exit-time cleanup removed the netlink XDP program');
    assert.equal(existsSync(`${PIN_ROOT}/${topo.host}`), false);

    // SIGKILL runs no cleanup: a netlink attachment belongs to the interface, not to an fd, so the
    // program stays attached (and its maps pinned). A bpf_link attachment would have gone with the
    // process — which is why links (and --pin for deliberate persistence) are the default.
    const k = await start(['xdp-shield', topo.host, '--block', `${topo.a4}/32`, '--netlink', '--generic']);
    k.child.kill('SIGKILL');
    await k.done;
    assert.ok(xdpShown(topo.host), 'still attached after SIGKILL');
    assert.equal(pings(topo, 'A', topo.host4), 0, 'and still blocking');
    execFileSync('ip', ['link', 'set', 'dev', topo.host, 'xdpgeneric', 'off']);
    assert.equal(tsbpf(['xdp-shield', topo.host, 'stop']).status, 0);

    // the bpf_link default: SIGKILL takes the attachment with the process
    const l = await start(['xdp-shield', topo.host, '--block', `${topo.a4}/32`, '--generic']);
    l.child.kill('SIGKILL');
    await l.done;
    assert.equal(await eventually(() => !xdpShown(topo.host)), true, 'a bpf_link dies with its process');
  } finally {
    tsbpf(['xdp-shield', topo.host, 'stop']);
    topo.close();
  }
});

test('xdp-shield errors: bad CIDR, unknown interface, no shield to control — nothing attached or pinned', (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('xz');
  try {
    const bad = tsbpf(['xdp-shield', topo.host, '--block', '10.1.2.3/40']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /invalid CIDR "10\.1\.2\.3\/40"/);
    const bad6 = tsbpf(['xdp-shield', topo.host, '--allow', 'fe80::1::2']);
    assert.notEqual(bad6.status, 0);
    assert.match(bad6.stderr, /invalid CIDR/);
    const unknown = tsbpf(['xdp-shield', 'nosuchif0', '--block', '10.0.0.0/8']);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /no such interface 'nosuchif0'/);
    const none = tsbpf(['xdp-shield', topo.host, 'block', '10.0.0.0/8']);
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /no shield on/);
    const cmd = tsbpf(['xdp-shield', topo.host, 'explode']);
    assert.notEqual(cmd.status, 0);
    assert.match(cmd.stderr, /unknown command "explode"/);
    assert.equal(xdpShown(topo.host), false);
    assert.equal(existsSync(`${PIN_ROOT}/${topo.host}`), false);
  } finally {
    topo.close();
  }
});
