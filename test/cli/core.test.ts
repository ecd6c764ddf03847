// The core CLI commands as a user runs them (bin/tsbpf from a built checkout), against the kernel.
import { test } from 'node:test';
import { hasKprobes } from '../../src/kernel/features.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPrograms } from '../../src/sys/info.js';
import { needsRoot } from '../helpers/kernel.js';
import { buildObject, repoPath } from '../helpers/objects.js';
import { connectOnce } from '../helpers/workload.js';

const BIN = repoPath('bin/tsbpf');
const EXAMPLE = repoPath('examples/tcpconnect/tcpconnect.bpf.o');

function tsbpf(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start `tsbpf args`, resolve once it says it is attached; returns the process and its output so far. */
async function startTsbpf(args: string[]): Promise<{ child: ReturnType<typeof spawn>; out: () => string; err: () => string; done: Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/attached/.test(err)) resolve();
    });
    child.on('close', () => reject(new Error(`tsbpf exited early: ${err}`)));
  });
  const done = new Promise<number | null>((r) => child.on('close', r));
  await ready;
  return { child, out: () => out, err: () => err, done };
}

const ourPrograms = (name: string): number[] => listPrograms().filter((p) => p.name === name).map((p) => p.id);

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
}

test("tsbpf run prints the seed's lines for real connects, and stops on Ctrl+C leaving nothing", async (t) => {
  if (!needsRoot(t)) return;
  const before = new Set(ourPrograms('tcp_connect'));
  const run = await startTsbpf(['run', EXAMPLE]);
  const { pid, port } = await connectOnce();
  const want = `PID ${pid} -> 127.0.0.1:${port}`;
  await waitFor(() => run.out().includes(want));
  assert.ok(run.out().includes(want), `stdout: ${run.out()}`);
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0);
  await waitFor(() => ourPrograms('tcp_connect').every((id) => before.has(id)));
  assert.deepEqual(ourPrograms('tcp_connect').filter((id) => !before.has(id)), []);
});

test('tsbpf run --json: one object per line; --duration ends it', async (t) => {
  if (!needsRoot(t)) return;
  const run = await startTsbpf(['run', EXAMPLE, '--json', '--duration', '3']);
  const { pid, port } = await connectOnce();
  const code = await run.done;
  const out = run.out();
  const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; pid: number; message: string });
  const hit = lines.find((l) => l.type === 'trace' && l.message === `PID ${pid} -> 127.0.0.1:${port}`);
  assert.ok(hit, out);
  assert.equal(hit.pid, pid);
});

test('tsbpf run on a kprobe object without kprobes: one clear line, exit 1, nothing loaded', async (t) => {
  if (!needsRoot(t)) return;
  // kprobes here: test/kernels/seed.test.ts runs the kprobe forms for real
  if (hasKprobes()) return;
  const seed = repoPath('examples/tcpconnect/tcpconnect_kprobe.bpf.o');
  const before = new Set(ourPrograms('tcp_connect'));
  const r = tsbpf(['run', seed, '--duration', '1']);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^tsbpf: .*kprobe.*CONFIG_KPROBES.*(tracepoint|tp_btf)/);
  await waitFor(() => ourPrograms('tcp_connect').every((id) => before.has(id)));
  assert.deepEqual(ourPrograms('tcp_connect').filter((id) => !before.has(id)), []);
});

test('tsbpf run --dump-maps prints typed map contents', (t) => {
  if (!needsRoot(t)) return;
  const r = tsbpf(['run', buildObject('test/kernel/fixtures/globals.bpf.c'), '--duration', '1', '--dump-maps', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const maps = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; name: string; entries: { key: unknown; value: any }[] }).filter((l) => l.type === 'map');
  const rodata = maps.find((m) => m.name.endsWith('.rodata'));
  assert.ok(rodata, r.stdout);
  assert.equal(rodata.entries[0]!.value.greeting, 'hello');
  assert.equal(rodata.entries[0]!.value.targ_tgid, 0);
  assert.ok(maps.find((m) => m.name === 'stats'));
});

test('failures are one line on stderr with a non-zero exit', () => {
  const missing = tsbpf(['run', '/nonexistent/x.bpf.o']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^tsbpf: cannot read object \/nonexistent\/x\.bpf\.o: ENOENT\n$/);
  const notElf = tsbpf(['disasm', BIN]);
  assert.equal(notElf.status, 1);
  assert.equal(notElf.stderr.trim().split('\n').length, 1, notElf.stderr);
  const unknown = tsbpf(['frobnicate']);
  assert.notEqual(unknown.status, 0);
});

test('tsbpf disasm interleaves C source lines', () => {
  const r = tsbpf(['disasm', EXAMPLE]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^tcp_connect:/);
  assert.match(r.stdout, /; .*ctx->newstate != TCP_SYN_SENT/);
  assert.match(r.stdout, /call 0x[0-9a-f]+|call \d+/);
  assert.match(r.stdout, /exit/);
});

test('tsbpf prog list/show and map list/dump see a loaded object', async (t) => {
  if (!needsRoot(t)) return;
  const run = await startTsbpf(['run', buildObject('test/kernel/fixtures/globals.bpf.c')]);
  try {
    const list = tsbpf(['prog', 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    // The newest on_getpid is ours (other processes may load the same fixture).
    const prog = (JSON.parse(list.stdout) as { id: number; name: string; type: string; map_ids: number[] }[]).filter((p) => p.name === 'on_getpid').pop();
    assert.ok(prog);
    assert.equal(prog.type, 'tracepoint');
    const show = tsbpf(['prog', 'show', String(prog.id)]);
    assert.match(show.stdout, new RegExp(`^${prog.id}: tracepoint  name on_getpid  tag [0-9a-f]{16}  gpl`));
    const maps = JSON.parse(tsbpf(['map', 'list', '--json']).stdout) as { id: number; name: string }[];
    const rodata = maps.find((m) => /\.rodata$/.test(m.name) && prog.map_ids.includes(m.id));
    assert.ok(rodata);
    const dump = tsbpf(['map', 'dump', String(rodata.id), '--json']);
    assert.equal(dump.status, 0, dump.stderr);
    assert.equal((JSON.parse(dump.stdout) as { value: { greeting: string } }[])[0]!.value.greeting, 'hello');
  } finally {
    run.child.kill('SIGTERM');
    await run.done;
  }
});

test('tsbpf btf dump: kernel BTF as C and raw; an object\'s .BTF', () => {
  const raw = tsbpf(['btf', 'dump', '--format', 'raw']);
  assert.equal(raw.status, 0, raw.stderr);
  assert.match(raw.stdout, /^\[1\] /);
  assert.match(raw.stdout, /STRUCT 'task_struct' size=\d+ vlen=\d+/);
  const obj = tsbpf(['btf', 'dump', EXAMPLE]);
  assert.equal(obj.status, 0, obj.stderr);
  assert.match(obj.stdout, /struct trace_event_raw_inet_sock_set_state \{/);
});

test('tsbpf compile builds with a generated vmlinux.h; without clang it says how to get it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-compile-'));
  try {
    const out = join(dir, 'x.o');
    const r = tsbpf(['compile', repoPath('examples/tcpconnect/tcpconnect.bpf.c'), '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...readFileSync(out).subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    const noClang = tsbpf(['compile', repoPath('examples/tcpconnect/tcpconnect.bpf.c'), '-o', out], { ...process.env, PATH: '/nonexistent', CLANG: '' });
    assert.equal(noClang.status, 1);
    assert.match(noClang.stderr, /clang not found.*apt-get install clang/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("examples/tcpconnect/loader.ts (the seed's loader.c, with tsbpf) prints the seed's lines", async (t) => {
  if (!needsRoot(t)) return;
  const child = spawn(process.execPath, [repoPath('dist/examples/tcpconnect/loader.js')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSBPF_DURATION: '4' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (/attached/.test(err)) resolve(); });
    child.on('close', () => reject(new Error(`loader exited early: ${err}`)));
  });
  const { pid, port } = await connectOnce();
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, err);
  assert.ok(out.split('\n').includes(`PID ${pid} -> 127.0.0.1:${port}`), out);
});
