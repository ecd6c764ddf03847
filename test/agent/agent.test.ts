// tsbpf agent on the real kernel, as a process: events made in a docker-named cgroup are counted
// per container (named from the runtime's files), latency and syscall maps are served; counts
// survive a crash (SIGKILL) and a restart (SIGUSR2) through the pins; SIGHUP keeps an unchanged
// program's counts and restarts a changed one; label sets beyond the limit fold into "other"; a
// clean stop removes every pin, program and map it made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root } from '../../src/tools/common/cgroup.js';
import { needsCommand, needsRoot, loadedProgramIds } from '../helpers/kernel.js';
import { startAgent, writeConfig, values, sum, runWorkload, eventually, removeCgroupTree, type AgentProcess } from './helpers.js';

const ID = 'a9e17e57'.repeat(8);

test('agent: per-container counts, pins across crash and restart, reload, series limit, clean stop', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'python3')) return;
  const base = join(cgroup2Root(), `tsbpf-agent-test-${process.pid}`);
  const ctr = join(base, `docker-${ID}.scope`);
  mkdirSync(ctr, { recursive: true });
  const host = join(writeConfig('').replace(/agent\.yaml$/, ''), 'host');
  mkdirSync(join(host, 'var/lib/docker/containers', ID), { recursive: true });
  writeFileSync(join(host, 'var/lib/docker/containers', ID, 'config.v2.json'), JSON.stringify({ Name: '/web' }));
  const pinPath = `/sys/fs/bpf/tsbpf-agent-test-${process.pid}`;
  const config = (execLabels: string) => `listen: 127.0.0.1:0
node: t1
labels: { cluster: test }
cgroup: ${base}
pinPath: ${pinPath}
hostRoot: ${host}
maxSeries: 3
programs:
  - name: connects
    tool: tcpconnect
  - name: execs
    tool: execsnoop
    labels: [${execLabels}]
  - name: runq
    tool: runqlat
`;
  const file = writeConfig(config('container, comm'));
  let agent: AgentProcess | undefined;
  const w = { cgroup: ctr, connects: 4, execs: [['/bin/true'], ['/bin/true']] };
  try {
    agent = await startAgent(file);
    const health = await agent.health();
    assert.equal(health.status, 200);
    const ids = health.body.programs.flatMap((p: { programIds?: number[] }) => p.programIds ?? []);
    assert.ok(ids.length >= 6, JSON.stringify(health.body));

    const port = runWorkload(w);
    const connects = { program: 'connects', container: 'web', container_id: ID.slice(0, 12), comm: 'python3', dport: String(port), node: 't1', cluster: 'test' };
    let text = '';
    await eventually(async () => sum(values((text = await agent!.metrics()), 'tsbpf_tcp_connects_total', connects)) === 4 && sum(values(text, 'tsbpf_execs_total', { container: 'web', comm: 'true' })) === 2, 10_000, 'the first workload');
    assert.equal(sum(values(text, 'tsbpf_tcp_connects_total', {})), 4, 'only the scoped cgroup counts');
    assert.ok(sum(values(text, 'tsbpf_runq_latency_seconds_count', { program: 'runq' })) > 0);
    assert.ok(values(text, 'tsbpf_runq_latency_seconds_bucket', { program: 'runq', le: '+Inf' }).length === 1);
    assert.ok(sum(values(text, 'tsbpf_agent_bpf_runs_total', { program: 'connects' })) > 0, 'bpf_stats run counts');
    assert.deepEqual(values(text, 'tsbpf_agent_program_up', { program: 'execs' }), [1]);
    assert.ok(sum(values(text, 'tsbpf_agent_map_entries', { program: 'connects', map: 'ledger' })) >= 1);
    assert.deepEqual(values(text, 'tsbpf_agent_series_limit'), [3]);
    assert.ok(existsSync(pinPath + '/t1'));

    // a crash: the next agent reads the pinned ledger and map back
    assert.equal(await agent.stop('SIGKILL'), null);
    agent = await startAgent(file);
    text = await agent.metrics();
    assert.equal(sum(values(text, 'tsbpf_tcp_connects_total', connects)), 4, 'counts after a crash');
    assert.ok(sum(values(text, 'tsbpf_runq_latency_seconds_count', { program: 'runq' })) > 0);
    runWorkload(w);
    // the same listener port is unlikely; count every python3 connect of the container
    const all = { program: 'connects', container: 'web', comm: 'python3' };
    await eventually(async () => sum(values((text = await agent!.metrics()), 'tsbpf_tcp_connects_total', all)) === 8 && sum(values(text, 'tsbpf_execs_total', { comm: 'true' })) === 4, 10_000, 'counting on after the crash');

    // a restart for an upgrade: SIGUSR2 keeps the pins
    assert.equal(await agent.stop('SIGUSR2'), 0);
    agent = await startAgent(file);
    assert.equal(sum(values(await agent.metrics(), 'tsbpf_tcp_connects_total', all)), 8, 'counts after SIGUSR2 and a new start');
    assert.equal(sum(values(await agent.metrics(), 'tsbpf_execs_total', { comm: 'true' })), 4);

    // SIGHUP with execs changed (labels) and connects as it was
    writeFileSync(file, config('comm'));
    const from = agent.logs.length;
    agent.proc.kill('SIGHUP');
    await agent.waitLog('config reloaded', from);
    text = await agent.metrics();
    assert.equal(sum(values(text, 'tsbpf_tcp_connects_total', all)), 8, 'an unchanged program keeps counting');
    assert.equal(values(text, 'tsbpf_execs_total', {}).length, 0, 'a changed program starts anew');
    // five programs by name, three label sets allowed: two fold into "other"
    runWorkload({ cgroup: ctr, connects: 0, execs: [['/bin/true'], ['/bin/false'], ['/bin/echo'], ['/usr/bin/env'], ['/bin/sleep', '0']] });
    await eventually(async () => sum(values((text = await agent!.metrics()), 'tsbpf_execs_total', { program: 'execs' })) === 5, 10_000, 'the five execs');
    assert.equal(values(text, 'tsbpf_execs_total', { program: 'execs' }).length, 4, text);
    assert.equal(sum(values(text, 'tsbpf_execs_total', { comm: 'other' })), 2);
    assert.deepEqual(values(text, 'tsbpf_agent_series_folded', { metric: 'execs/tsbpf_execs_total' }), [2]);
    // an invalid config is refused and the running one stays
    writeFileSync(file, 'programs:\n  - name: x\n    tool: nope\n');
    const from2 = agent.logs.length;
    agent.proc.kill('SIGHUP');
    const refused = await agent.waitLog('reload refused: config invalid, the running one stays', from2);
    assert.match(refused.err, /agent\.yaml:3: programs\[0\]\.tool: 'nope'/);
    assert.equal((await agent.health()).status, 200);

    // a clean stop: pins, programs and maps gone
    const last = (await agent.health()).body.programs.flatMap((p: { programIds?: number[] }) => p.programIds ?? []);
    assert.equal(await agent.stop('SIGTERM'), 0);
    agent = undefined;
    assert.ok(!existsSync(pinPath + '/t1'), 'pins removed');
    // the kernel frees a dead process's programs a moment after it exited (RCU, a workqueue)
    await eventually(async () => { const loaded = new Set(loadedProgramIds()); return [...ids, ...last].every((id: number) => !loaded.has(id)); }, 5000, 'programs released');
  } finally {
    await agent?.stop('SIGKILL');
    rmSync(pinPath, { recursive: true, force: true });
    await removeCgroupTree(base);
    rmSync(host, { recursive: true, force: true });
  }
});
