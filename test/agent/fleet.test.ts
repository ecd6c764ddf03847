// A fleet for real: four simulated nodes — each a network namespace and a cgroup with two
// docker-named containers, and its own `tsbpf agent` scoped to that cgroup — scraped every second
// by one real Prometheus through file_sd. Each node's workload (connects and execs, different per
// node and container) must come back from Prometheus' query API as the right per-node,
// per-container sums; promtool accepts an agent's output. The figures docs/fleet.md quotes
// (series and bytes per node, scrape time, agent CPU and RSS) are printed as diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root } from '../../src/tools/common/cgroup.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { startAgent, writeConfig, values, runWorkload, eventually, removeCgroupTree, CONNECTS_AND_EXECS, type AgentProcess } from './helpers.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

const NODES = 4;
const CONTAINERS = ['web', 'db'] as const;
const idOf = (node: number, c: number): string => `${(0xf1ee7000 + node * 16 + c).toString(16)}`.repeat(8);
/** the workload of each node's containers: node i's web makes 2+i connects and i+1 execs, db 1 and 2 */
const plan = (node: number, c: number) => (c === 0 ? { connects: 2 + node, execs: node + 1 } : { connects: 1, execs: 2 });

test('fleet: 4 agents (netns + cgroup each) scraped by Prometheus; per-node, per-container sums match the workload', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'prometheus') || !needsCommand(t, 'promtool') || !needsCommand(t, 'ip') || !needsCommand(t, 'python3')) return;
  const tag = `tsbpf-fleet-${process.pid}`;
  const base = join(cgroup2Root(), tag);
  const host = join(writeConfig('').replace(/agent\.yaml$/, ''), 'host');
  const pinPath = `/sys/fs/bpf/${tag}`;
  const agents: AgentProcess[] = [];
  const netns: string[] = [];
  let prom: Prometheus | undefined;
  try {
    for (let n = 0; n < NODES; n++) {
      const ns = `${tag}-${n}`;
      execFileSync('ip', ['netns', 'add', ns]);
      netns.push(ns);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      CONTAINERS.forEach((name, c) => {
        mkdirSync(join(base, `node${n}`, `docker-${idOf(n, c)}.scope`), { recursive: true });
        mkdirSync(join(host, 'var/lib/docker/containers', idOf(n, c)), { recursive: true });
        writeFileSync(join(host, 'var/lib/docker/containers', idOf(n, c), 'config.v2.json'), JSON.stringify({ Name: `/${name}` }));
      });
    }
    prom = await startPrometheus('1s');
    for (let n = 0; n < NODES; n++) {
      const file = writeConfig(`listen: 127.0.0.1:0
node: node${n}
labels: { fleet: test }
cgroup: ${join(base, `node${n}`)}
pinPath: ${pinPath}
hostRoot: ${host}
${CONNECTS_AND_EXECS}`);
      agents.push(await startAgent(file));
    }
    prom.setTargets([{ targets: agents.map((a) => `127.0.0.1:${a.port}`), labels: { cluster: 'sim' } }]);
    await eventually(async () => (await prom!.query('sum(up{job="tsbpf"})'))[0]?.value === NODES, 20_000, 'Prometheus scraping every agent');

    // the workload: each container's process moves itself into its cgroup, in its node's namespace
    for (let n = 0; n < NODES; n++) {
      CONTAINERS.forEach((_, c) => {
        const p = plan(n, c);
        runWorkload({ cgroup: join(base, `node${n}`, `docker-${idOf(n, c)}.scope`), netns: netns[n], connects: p.connects, execs: Array.from({ length: p.execs }, () => ['/bin/true']) });
      });
    }
    const expected = (what: 'connects' | 'execs') => {
      const m = new Map<string, number>();
      for (let n = 0; n < NODES; n++) CONTAINERS.forEach((name, c) => m.set(`node${n}/${name}`, plan(n, c)[what]));
      return m;
    };
    const got = async (q: string) => new Map((await prom!.query(q)).map((r) => [`${r.metric.node}/${r.metric.container}`, r.value]));
    const connectsQ = 'sum by (node, container) (tsbpf_tcp_connects_total{fleet="test"})';
    const execsQ = 'sum by (node, container) (tsbpf_execs_total{fleet="test", comm="true"})';
    let last: [Map<string, number>, Map<string, number>] = [new Map(), new Map()];
    const same = (a: Map<string, number>, b: Map<string, number>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
    await eventually(async () => {
      last = [await got(connectsQ), await got(execsQ)];
      return same(last[0], expected('connects')) && same(last[1], expected('execs'));
    }, 20_000, 'the per-node, per-container sums').catch(() => {
      assert.deepEqual([[...last[0]].sort(), [...last[1]].sort()], [[...expected('connects')].sort(), [...expected('execs')].sort()]);
    });
    // no node counted another's tasks: every series carries its own node's container ids
    for (const r of await prom.query('tsbpf_tcp_connects_total{fleet="test"}')) {
      const n = Number(r.metric.node!.slice(4));
      assert.ok([idOf(n, 0), idOf(n, 1)].some((id) => id.startsWith(r.metric.container_id!)), JSON.stringify(r.metric));
    }

    // promtool on an agent's exposition; figures for docs/fleet.md
    const text = await agents[0]!.metrics();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const series = await prom.query('scrape_samples_scraped{job="tsbpf"}');
    const seconds = await prom.query('scrape_duration_seconds{job="tsbpf"}');
    const cpu = await prom.query('tsbpf_agent_process_cpu_seconds_total');
    const rss = await prom.query('tsbpf_agent_process_resident_memory_bytes');
    t.diagnostic(`nodes ${NODES}; samples per scrape per node ${series.map((s) => s.value).join(', ')}; bytes per scrape ${text.length} (node0)`);
    t.diagnostic(`scrape seconds ${seconds.map((s) => s.value.toFixed(4)).join(', ')}; agent CPU s ${cpu.map((s) => s.value.toFixed(2)).join(', ')}; RSS MiB ${rss.map((s) => (s.value / 2 ** 20).toFixed(0)).join(', ')}`);
    assert.equal(series.length, NODES);
    for (const a of agents.splice(0)) assert.equal(await a.stop(), 0);
    assert.ok(!existsSync(join(pinPath, 'node0')), 'pins removed');
  } finally {
    for (const a of agents) await a.stop('SIGKILL');
    await prom?.close();
    for (const ns of netns) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(pinPath, { recursive: true, force: true });
    rmSync(host, { recursive: true, force: true });
    await removeCgroupTree(base);
  }
});
