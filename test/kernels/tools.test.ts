// Every tool, as users run it, on this kernel: started with -v (it names the hook it chose here), a
// workload it must see, then stopped; nothing stays loaded. The tools' own test files check their
// output in detail on the development machine; this file is what the kernel matrix runs in each guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { needsRoot } from '../helpers/kernel.js';
import { listen } from '../tools/workload.js';
import { topology, type Topology } from '../net-tools/topology.js';
import { tcx } from '../../src/kernel/features.js';
import { leftBehind, programsNow, toolPrograms, tsbpf } from './cli.js';

async function connectClose(port: number): Promise<void> {
  await new Promise<void>((res, rej) => {
    const c = net.connect(port, '127.0.0.1', () => c.end());
    c.on('close', () => res());
    c.on('error', rej);
  });
}

/** Runs `tsbpf tool args -v`, waits for `ready`, runs `work`, waits for `seen`, stops it; returns stdout. */
async function runTool(args: string[], ready: RegExp, work: () => Promise<void> | void, seen: RegExp): Promise<string> {
  const before = programsNow();
  const r = tsbpf([...args, '-v']);
  try {
    await r.waitFor(ready);
    assert.match(r.err, new RegExp(`${args[0]}: hook \\S`), 'the hook it chose is named');
    await work();
    await r.waitFor(seen);
  } finally {
    await r.stop();
  }
  assert.deepEqual(leftBehind(before, toolPrograms(args[0]!)), [], 'nothing left loaded');
  return r.out;
}

/** Like runTool for the tools that print at the end (histograms, counts): --duration, then their output. */
async function runSummary(args: string[], work: () => Promise<void> | void, seen: RegExp): Promise<string> {
  const before = programsNow();
  const r = tsbpf([...args, '-v', '--duration', '8']);
  await r.waitFor(new RegExp(`${args[0]}: hook \\S`));
  await work();
  assert.equal(await r.exited, 0, r.err);
  assert.match(r.out, seen);
  assert.deepEqual(leftBehind(before, toolPrograms(args[0]!)), [], 'nothing left loaded');
  return r.out;
}

test('execsnoop sees an exec with its arguments', async (t) => {
  if (!needsRoot(t)) return;
  await runTool(['execsnoop'], /PCOMM/, () => void spawnSync('/bin/echo', ['matrix-exec-mark']), /echo .*matrix-exec-mark/);
});

test('opensnoop sees an open of a known path', async (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-open-'));
  const file = join(dir, 'matrix-open-mark');
  writeFileSync(file, 'x');
  try {
    await runTool(['opensnoop'], /PATH/, () => void spawnSync('cat', [file]), /matrix-open-mark/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tcplife and tcpstates see a loopback connection open and close', async (t) => {
  if (!needsRoot(t)) return;
  const srv = await listen('127.0.0.1');
  try {
    await runTool(['tcplife'], /LPORT/, () => connectClose(srv.port), new RegExp(`\\b${srv.port}\\b`));
    await runTool(['tcpstates'], /NEWSTATE/, () => connectClose(srv.port), new RegExp(`${srv.port}.*ESTABLISHED|ESTABLISHED.*${srv.port}`));
  } finally {
    srv.server.close();
  }
});

test('runqlat and syscount print their summaries', async (t) => {
  if (!needsRoot(t)) return;
  const busy = (): void => void spawnSync('sh', ['-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 0.01; done']);
  await runSummary(['runqlat'], busy, /usecs\s+: count\s+distribution/);
  await runSummary(['syscount'], busy, /SYSCALL\s+COUNT/);
});

test('profile samples stacks', async (t) => {
  if (!needsRoot(t)) return;
  await runSummary(['profile', '-F', '199'], () => void spawnSync('sh', ['-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done']), /\S+\s*\n\s+-\s+\S+ \(\d+\)/);
});

/**
 * A block device of the test's own to read with O_DIRECT: null_blk where the kernel has it as a
 * module (the guests), else a loop device over a file (the development machine, where the sandbox
 * refuses to open its disk: reads of / would leave the histogram to other processes' I/O).
 */
function blockDevice(): { dev: string; cleanup: () => void } {
  if (spawnSync('modprobe', ['null_blk', 'nr_devices=1', 'queue_mode=2'], { stdio: 'ignore' }).status === 0 && existsSync('/dev/nullb0')) {
    return { dev: '/dev/nullb0', cleanup: () => void spawnSync('rmmod', ['null_blk'], { stdio: 'ignore' }) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-blk-'));
  const file = join(dir, 'disk.img');
  writeFileSync(file, Buffer.alloc(1 << 20));
  const r = spawnSync('losetup', ['--find', '--show', file], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`no block device for biolatency: null_blk is not available and losetup failed: ${r.stderr.trim()}`);
  }
  const dev = r.stdout.trim();
  return { dev, cleanup: () => { spawnSync('losetup', ['-d', dev], { stdio: 'ignore' }); rmSync(dir, { recursive: true, force: true }); } };
}

test('biolatency counts direct reads of a block device', async (t) => {
  if (!needsRoot(t)) return;
  const { dev, cleanup } = blockDevice();
  try {
    const read = (): void => {
      const r = spawnSync('dd', [`if=${dev}`, 'of=/dev/null', 'bs=4k', 'count=64', 'iflag=direct'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `dd from ${dev}: ${r.stderr}`);
    };
    // only that disk: the 64 reads are counted, and nobody else's I/O can stand in for them
    const out = await runSummary(['biolatency', '-d', dev.replace('/dev/', '')], read, /usecs\s+: count\s+distribution/);
    const total = [...out.matchAll(/->\s*\d+\s*:\s*(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(total >= 64, `${total} reads counted of 64:\n${out}`);
  } finally {
    cleanup();
  }
});

/** Pings from namespace A or B of the topology to the host side; the number of replies. */
function pings(topo: Topology, ns: 'A' | 'B', n = 2): number {
  const r = spawnSync('ip', ['netns', 'exec', ns === 'A' ? topo.nsA : topo.nsB, 'ping', '-c', String(n), '-i', '0.3', '-W', '2', topo.host4], { encoding: 'utf8' });
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
}

test('xdp-shield drops a blocked source and passes the others; detached on Ctrl+C', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('kx');
  try {
    const before = programsNow();
    const r = tsbpf(['xdp-shield', topo.host, '--block', `${topo.a4}/32`, '--generic']);
    try {
      await r.waitFor(/xdp-shield: attached to/);
      assert.equal(pings(topo, 'A'), 0, 'A is blocked');
      assert.equal(pings(topo, 'B'), 2, 'B passes');
    } finally {
      assert.equal(await r.stop(), 0, r.err);
    }
    assert.doesNotMatch(execFileSync('ip', ['link', 'show', 'dev', topo.host], { encoding: 'utf8' }), /\bxdp/, 'XDP detached');
    assert.equal(pings(topo, 'A'), 2, 'A passes again');
    assert.deepEqual(leftBehind(before, toolPrograms('xdp-shield')), [], 'nothing left loaded');
  } finally {
    topo.close();
  }
});

test('tc-limit attaches where this kernel allows (tcx, else a clsact qdisc) and leaves nothing', async (t) => {
  if (!needsRoot(t)) return;
  const topo = topology('kt');
  try {
    const before = programsNow();
    const r = tsbpf(['tc-limit', topo.host, '--egress', '--rate', '10mbit']);
    try {
      const m = await r.waitFor(/limited to .* \((policing|EDT pacing with fq), (.*)\)\. Ctrl\+C/);
      assert.match(m[2]!, tcx().ok ? /^tcx / : /^(?!tcx)/, `tcx where the kernel has it: ${m[2]}`);
      assert.equal(pings(topo, 'B'), 2, 'traffic under the rate passes');
    } finally {
      assert.equal(await r.stop(), 0, r.err);
    }
    assert.doesNotMatch(execFileSync('tc', ['filter', 'show', 'dev', topo.host, 'egress'], { encoding: 'utf8' }), /bpf/, 'no filter left');
    assert.deepEqual(leftBehind(before, toolPrograms('tc-limit')), [], 'nothing left loaded');
  } finally {
    topo.close();
  }
});
