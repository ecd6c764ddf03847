// `tsbpf trace` as a command: -e, a .bt file, positional parameters, -c, -l, -d, -f json, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../helpers/kernel.js';
import { CLI } from '../net-tools/topology.js';
import { listProbes } from '../../src/script/cli.js';

// the command as users run it (bin/tsbpf and the trace bundle, or the sources through tsx)
const TRACE = [...CLI, 'trace'];

function tsbpf(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...TRACE, ...args], { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('-e SCRIPT and the script as the first argument', (t) => {
  if (!needsRoot(t)) return;
  assert.deepEqual(tsbpf('-e', 'BEGIN { printf("one\\n"); exit() }'), { status: 0, stdout: 'Attaching 1 probe...\none\n\n\n', stderr: '' });
  assert.equal(tsbpf('BEGIN { printf("two\\n"); exit() }').stdout, 'Attaching 1 probe...\ntwo\n\n\n');
});

test('a .bt file with positional parameters $1 $2 and $#', (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-trace-'));
  try {
    const f = join(dir, 'params.bt');
    writeFileSync(f, '#!/usr/bin/env bpftrace\n// comment\nBEGIN\n{\n\tprintf("%s %d %d\\n", $1, $2 + 1, $#);\n\texit();\n}\n');
    assert.equal(tsbpf(f, 'word', '41').stdout, 'Attaching 1 probe...\nword 42 2\n\n\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-c CMD: traces the command, $cpid is its pid, stops when it exits', (t) => {
  if (!needsRoot(t)) return;
  const r = tsbpf('-c', '/bin/true', '-e', 'tracepoint:sched:sched_process_exec /pid == cpid/ { printf("exec %s\\n", str(args->filename)); }');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'Attaching 1 probe...\nexec /bin/true\n\n\n');
});

test('-f json', (t) => {
  if (!needsRoot(t)) return;
  assert.equal(tsbpf('-f', 'json', '-e', 'BEGIN { printf("x\\n"); @a = 1; exit() }').stdout,
    '{"type": "attached_probes", "data": {"probes": 1}}\n{"type": "printf", "data": "x\\n"}\n{"type": "map", "data": {"@a": 1}}\n');
});

test('-d prints the bytecode with the script text it came from', (t) => {
  if (!needsRoot(t)) return;
  const r = tsbpf('-d', '-e', 'BEGIN { printf("hi\\n"); exit() }');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^BEGIN \(\d+ instructions, \d+ bytes of stack\):\n/);
  assert.match(r.stdout, /; 1:9: printf\("hi\\n"\)\n/);
  assert.match(r.stdout, /call bpf_ringbuf_output#130|call 130|ringbuf_output/);
  assert.match(r.stdout, /exit\n/);
});

test('syntax and type errors: exit 1, bpftrace-style message with the underline', () => {
  const r = tsbpf('-e', 'BEGIN { printf("hi" }');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'stdin:1:21-22: ERROR: syntax error, unexpected }, expecting ) or ","\nBEGIN { printf("hi" }\n                    ~\n');
  const u = tsbpf('-e', 'BEGIN { @x = nosuch }');
  assert.equal(u.status, 1);
  assert.match(u.stderr, /^stdin:1:14-20: ERROR: Unknown identifier: 'nosuch'\n/);
});

test('-l lists probes by pattern', (t) => {
  if (!needsRoot(t)) return;
  const l = listProbes('tracepoint:sock:inet_sock_set*');
  assert.deepEqual(l, ['tracepoint:sock:inet_sock_set_state']);
  const r = tsbpf('-l', 'tracepoint:sched:sched_process_e*');
  assert.equal(r.stdout, 'tracepoint:sched:sched_process_exec\ntracepoint:sched:sched_process_exit\n');
  assert.ok(listProbes('sched_switch').includes('rawtracepoint:sched_switch'));
});
