// Scripts in tsbpf's VM: no kernel, no privileges. The same compiled CollectionSpec the kernel loads
// runs there where its probes allow (BEGIN, END, interval), printing what bpftrace prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileForVm, runInVm, type VmRunOptions } from '../../src/script/vm.js';
import { ScriptError } from '../../src/script/error.js';
import { SAME_AS_BPFTRACE } from './same-as-bpftrace.js';
import { spawnSync } from 'node:child_process';
import { CLI } from '../net-tools/topology.js';

async function run(script: string, o: Partial<VmRunOptions> & { params?: string[] } = {}): Promise<string> {
  let out = '';
  await runInVm(compileForVm(script, { params: o.params }), { ...o, write: (s) => void (out += s) });
  return out;
}

test("maps, aggregations, printf and print: bpftrace's output, in the VM", async () => {
  for (const [script, want] of SAME_AS_BPFTRACE) assert.equal(await run(script), want, script);
});

test('both engines, the same output', async () => {
  const script = SAME_AS_BPFTRACE[0]![0];
  assert.equal(await run(script, { engine: 'interp' }), await run(script, { engine: 'jit' }));
});

test('interval probes fire on a timer until exit(); END runs after, then the maps print', async () => {
  const out = await run('BEGIN { @start = 1 } interval:ms:5 { @ticks++; if (@ticks == 3) { exit() } } END { printf("end after %d\\n", @ticks); delete(@start) }');
  // (@start, emptied, prints as an empty line, as bpftrace prints it)
  assert.equal(out, 'Attaching 3 probes...\nend after 3\n\n\n\n@ticks: 3\n');
});

test('the signal stops a script that never exits: END and the maps still print', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  const out = await run('interval:ms:1 { @n = count(); } END { printf("stopped\\n") }', { signal: ac.signal });
  assert.match(out, /^Attaching 2 probes\.\.\.\nstopped\n\n\n@n: \d+\n$/);
  assert.ok(Number(/@n: (\d+)/.exec(out)![1]) > 0);
});

test('the task, the clock and the positional parameters the programs see', async () => {
  const out = await run('BEGIN { printf("%d %d %s %s %d\\n", pid, tid, comm, $1, $2 + 1); @e = elapsed > 0; exit() }', { task: { pid: 7, tgid: 42, comm: 'vmtask' }, params: ['word', '41'] });
  assert.equal(out, 'Attaching 1 probe...\n42 7 vmtask word 42\n\n\n@e: 1\n');
});

test('strings, conditions and loops compile to programs the VM verifier accepts', async () => {
  const out = await run('BEGIN { $s = "abc"; $i = 0; while ($i < 3) { $i++; if ($s == "abc" && $i != 2) { printf("%d ", $i) } } printf("%d %s\\n", strncmp("abc", "abd", 2), $s); exit() }');
  assert.equal(out, 'Attaching 1 probe...\n1 3 0 abc\n\n\n');
});

test('a probe that needs the kernel is refused, pointing at it', () => {
  assert.throws(() => compileForVm('BEGIN { exit() } tracepoint:sched:sched_switch { @ = count() }'), (e: unknown) => e instanceof ScriptError && /tracepoint not found/.test(e.message));
  const c = compileForVm('BEGIN { exit() } kprobe:vfs_read { @ = count() }');
  return assert.rejects(runInVm(c, { write: () => {} }), (e: unknown) => e instanceof ScriptError && /kprobe:vfs_read: only BEGIN, END and interval probes run in the VM/.test(e.message) && e.line === 1);
});

test('tsbpf trace --vm: the command line, in the VM', () => {
  const r = spawnSync(process.execPath, [...CLI, 'trace', '--vm', '-e', 'BEGIN { @[$1] = count(); printf("%s\\n", $1); exit() }', 'word'], { encoding: 'utf8', timeout: 60000 });
  assert.deepEqual([r.status, r.stderr, r.stdout], [0, '', 'Attaching 1 probe...\nword\n\n\n@[word]: 1\n']);
  const k = spawnSync(process.execPath, [...CLI, 'trace', '--vm', '-e', 'kprobe:vfs_read { @ = count() }'], { encoding: 'utf8', timeout: 60000 });
  assert.notEqual(k.status, 0);
  assert.match(k.stderr, /only BEGIN, END and interval probes run in the VM/);
});
