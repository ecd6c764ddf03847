// The commands as a user runs them (in-process, output captured through io): tcpconnect's table, -t/-U/-s
// columns, --json lines and -c counts; profile writing folded stacks and an SVG; runqlat's
// histogram; syscount's table; bad flags refused with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { tcpconnectCommand, header as tcHeader } from '../../src/tools/tcpconnect/cli.js';
import { profileCommand } from '../../src/tools/profile/cli.js';
import { runqlatCommand } from '../../src/tools/runqlat/cli.js';
import { syscountCommand } from '../../src/tools/syscount/cli.js';
import { toolCommands } from '../../src/tools/commands.js';
import { io } from '../../src/tools/common/cli.js';
import { needsRoot, needsCommand } from '../helpers/kernel.js';
import { startChild, CONNECT_BODY, listen, sleep } from './workload.js';
import { cpuhog } from './connloop.js';
import { startBinary } from './workload.js';

/** Runs a command with argv, capturing what it writes to stdout and stderr. */
async function run(cmd: Command, argv: string[], during?: () => Promise<void>): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const { out: ow, err: ew } = io;
  io.out = (s) => void (out += s);
  io.err = (s) => void (err += s);
  try {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (e) => void (err += e) });
    const done = cmd.parseAsync(argv, { from: 'user' });
    if (during) {
      // started once attached: the table's header, or -v's hook line on stderr
      for (let i = 0; i < 200 && !out && !/hook /.test(err); i++) await sleep(25);
      await during();
    }
    await done;
  } finally {
    io.out = ow;
    io.err = ew;
  }
  return { out, err };
}

test('the tool commands are listed for the CLI registry, each loading its Command', async () => {
  const names = toolCommands.map((c) => c.name);
  for (const n of ['tcpconnect', 'execsnoop', 'opensnoop', 'tcplife', 'tcpstates', 'runqlat', 'biolatency', 'syscount', 'profile']) assert.ok(names.includes(n), n);
  assert.equal(new Set(names).size, names.length, 'no name twice');
  for (const c of toolCommands) assert.equal((await c.load()).name(), c.name);
});

test('tcpconnect: libbpf-tools columns, -t -U -s, and -v naming the hook', async (t) => {
  if (!needsRoot(t)) return;
  const { server, port } = await listen('127.0.0.1');
  try {
    let pid = 0;
    const { out, err } = await run(tcpconnectCommand(), ['-t', '-U', '-s', '-v', '-P', String(port), '--duration', '4'], async () => {
      const c = await startChild('tc-cli', CONNECT_BODY, { targets: [{ host: '127.0.0.1', port }], rounds: 2 });
      pid = c.pid;
      c.go();
      await c.result;
    });
    const lines = out.trimEnd().split('\n');
    assert.equal(lines[0] + '\n', tcHeader({ timestamp: true, printUid: true, sourcePort: true }));
    assert.equal(lines[0], 'TIME(s)  UID   PID    COMM         IP SADDR            DADDR            SPORT DPORT');
    assert.equal(lines.length, 3, out);
    const m = /^(\d+\.\d{3}) +0 +(\d+) +tc-cli +4 +127\.0\.0\.1 +127\.0\.0\.1 +(\d+) +(\d+) *$/.exec(lines[1]!);
    assert.ok(m, lines[1]);
    assert.equal(m[1], '0.000');
    assert.equal(Number(m[2]), pid);
    assert.ok(Number(m[3]) > 0);
    assert.equal(Number(m[4]), port);
    // the hook differs by kernel (test/kernels/tcpconnect.test.ts checks which): -v names one
    assert.match(err, /tcpconnect: hook (kprobe|fexit|tp_btf|tracepoint) /);
  } finally {
    server.close();
  }
});

test('tcpconnect --json: one object per line with the documented fields; -c prints counts at the end', async (t) => {
  if (!needsRoot(t)) return;
  const { server, port } = await listen('::1');
  try {
    let pid = 0;
    const { out } = await run(tcpconnectCommand(), ['--json', '-v', '-6', '-P', String(port), '--duration', '4'], async () => {
      const c = await startChild('tc-json', CONNECT_BODY, { targets: [{ host: '::1', port }], rounds: 1 });
      pid = c.pid;
      c.go();
      await c.result;
    });
    const objs = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(objs.length, 1, out);
    const o = objs[0];
    for (const k of ['pid', 'tid', 'comm', 'uid', 'af', 'saddr', 'daddr', 'sport', 'dport', 'ts', 'cgroup']) assert.ok(k in o, `field ${k}`);
    assert.equal(o.pid, pid);
    assert.equal(o.comm, 'tc-json');
    assert.equal(o.af, 6);
    assert.equal(o.daddr, '::1');
    assert.equal(o.dport, port);
    assert.ok(o.sport > 0);
    assert.equal(typeof o.cgroup, 'number');
    assert.equal(typeof o.cgroupPath, 'string');

    const counted = await run(tcpconnectCommand(), ['-c', '-v', '-P', String(port), '--duration', '4'], async () => {
      const c = await startChild('tc-count', CONNECT_BODY, { targets: [{ host: '::1', port }], rounds: 3 });
      c.go();
      await c.result;
    });
    const lines = counted.out.trim().split('\n');
    assert.match(lines[0]!, /^LADDR +RADDR +RPORT +CONNECTS *$/);
    assert.match(lines[1]!, new RegExp(`^::1 +::1 +${port} +3 *$`));
  } finally {
    server.close();
  }
});

test('bad flags are refused with a message, before anything is loaded', async () => {
  for (const argv of [['-P', '0'], ['-P', '1,2,3,4,5,6,7,8,9'], ['-p', 'abc'], ['--hook', 'uprobe']]) {
    await assert.rejects(run(tcpconnectCommand(), argv), (e: Error) => /invalid|Allowed choices/.test(e.message), argv.join(' '));
  }
});

test('profile --folded FILE --svg FILE: folded stacks and a flame graph of a CPU loop', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'gcc')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-profile-cli-'));
  const c = startBinary(cpuhog(), ['user', '4', 'pf-cli']);
  try {
    await run(profileCommand(), ['-v', '-p', String(c.pid), '-F', '199', '--folded', join(dir, 'out.folded'), '--svg', join(dir, 'out.svg'), '3'], async () => c.go());
    const folded = readFileSync(join(dir, 'out.folded'), 'utf8');
    assert.match(folded, /^pf-cli;.*main;spin_outer;spin_inner \d+$/m);
    const svg = readFileSync(join(dir, 'out.svg'), 'utf8');
    assert.match(svg, /<title>spin_inner \(\d+ samples, [\d.]+%\)<\/title>/);
  } finally {
    c.proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runqlat and syscount print their summaries at the end', async (t) => {
  if (!needsRoot(t)) return;
  const r = await run(runqlatCommand(), ['--duration', '1']);
  assert.match(r.out, /^Tracing run queue latency\.\.\. Hit Ctrl-C to end\.\n\n     usecs               : count    distribution\n/);
  const b = await run(runqlatCommand(), ['--layout', 'bpftrace', '--duration', '1']);
  assert.match(b.out, /\n@usecs: \n\[/);
  const s = await run(syscountCommand(), ['-T', '3', '--duration', '1']);
  assert.match(s.out, /^Tracing syscalls, printing top 3\.\.\. Ctrl\+C to quit\.\n\[\d\d:\d\d:\d\d\]\nSYSCALL {19}COUNT\n(\S+ +\d+\n){3}\n$/);
});

test('a command in its own process writes to the real stdout (syscount --list)', async () => {
  const { spawnSync } = await import('node:child_process');
  const url = new URL('../../src/tools/syscount/cli.js', import.meta.url).href;
  const script = `const { syscountCommand } = await import(${JSON.stringify(url)}); await syscountCommand().parseAsync(['--list'], { from: 'user' });`;
  const r = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {3}0 read\n {3}1 write\n/);
  assert.match(r.stdout, /\n 231 exit_group\n/);
});

test('tcpconnect in its own process: events reach the real stdout before it exits', async (t) => {
  if (!needsRoot(t)) return;
  const { spawn } = await import('node:child_process');
  const { server, port } = await listen('127.0.0.1');
  try {
    const url = new URL('../../src/tools/tcpconnect/cli.js', import.meta.url).href;
    const script = `const { tcpconnectCommand } = await import(${JSON.stringify(url)}); await tcpconnectCommand().parseAsync(['-v', '-P', '${port}', '--duration', '4'], { from: 'user' });`;
    const p = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((res) => p.on('close', (code) => res(code)));
    for (let i = 0; i < 300 && !/hook /.test(err); i++) await sleep(25);
    const c = await startChild('tc-proc', CONNECT_BODY, { targets: [{ host: '127.0.0.1', port }], rounds: 2 });
    c.go();
    await c.result;
    assert.equal(await closed, 0, err);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^PID +COMM +IP SADDR +DADDR +DPORT *$/);
    assert.equal(lines.filter((l) => new RegExp(`^${c.pid} +tc-proc +4 +127\\.0\\.0\\.1 +127\\.0\\.0\\.1 +${port} *$`).test(l)).length, 2, out);
  } finally {
    server.close();
  }
});
