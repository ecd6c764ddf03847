// Container observability on this kernel: a process in a cgroup named the way docker (systemd
// driver) and kubepods name theirs is reported with its cgroup path and container, and --cgroup
// filters on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { tcpconnectCommand } from '../../src/tools/tcpconnect/cli.js';
import { ExecsnoopTracer } from '../../src/tools/execsnoop/index.js';
import { CgroupNames, io } from '../../src/tools/common/cli.js';
import { cgroup2Root, cgroupIdOf } from '../../src/tools/common/cgroup.js';
import { needsRoot } from '../helpers/kernel.js';
import { startChild, CONNECT_BODY, listen, collectUntil, sleep } from './workload.js';

const ID = 'c0ffee00'.repeat(8);
const POD = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

test('a docker-named cgroup: --cgroup filters on it, --json carries id, path and container, the column names it', async (t) => {
  if (!needsRoot(t)) return;
  const slice = `${cgroup2Root()}/tsbpf-test-${process.pid}.slice`;
  const scope = `${slice}/docker-${ID}.scope`;
  mkdirSync(scope, { recursive: true });
  const { server, port } = await listen('127.0.0.1');
  let out = '';
  const saved = { ...io };
  try {
    const c = await startChild('in-container', CONNECT_BODY, { targets: [{ host: '127.0.0.1', port }] });
    writeFileSync(`${scope}/cgroup.procs`, String(c.pid));
    let err = '';
    io.out = (s) => void (out += s);
    io.err = (s) => void (err += s);
    const cmd = tcpconnectCommand();
    const done = cmd.parseAsync(['--json', '-v', '--cgroup', slice, '--duration', '4'], { from: 'user' });
    for (let i = 0; i < 200 && !/hook /.test(err); i++) await sleep(25);
    c.go();
    await c.result;
    await done;
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1, out);
    assert.equal(lines[0].comm, 'in-container');
    assert.equal(BigInt(lines[0].cgroup), cgroupIdOf(scope));
    assert.equal(lines[0].cgroupPath, scope.slice(cgroup2Root().length));
    assert.deepEqual(lines[0].container, { runtime: 'docker', id: ID });
    assert.equal(new CgroupNames().column(cgroupIdOf(scope)), `docker:${ID.slice(0, 12)}`);
  } finally {
    Object.assign(io, saved);
    server.close();
    await sleep(200);
    rmdirSync(scope);
    rmdirSync(slice);
  }
});

test('a kubepods-named cgroup: execsnoop events name the pod and container', async (t) => {
  if (!needsRoot(t)) return;
  const base = `${cgroup2Root()}/tsbpf-kubepods-${process.pid}`;
  const ctr = `${base}/kubepods/burstable/pod${POD}/${ID}`;
  mkdirSync(ctr, { recursive: true });
  const tracer = await ExecsnoopTracer.open({ cgroup: base });
  try {
    const c = await startChild('k8s-app', "require('child_process').spawnSync('/bin/true', [], { stdio: 'ignore' });", {});
    writeFileSync(`${ctr}/cgroup.procs`, String(c.pid));
    const ac = new AbortController();
    const seen = collectUntil(tracer.events(ac.signal), (l) => l.length >= 1, 5000, ac);
    await sleep(50);
    c.go();
    await c.result;
    const [e] = await seen;
    assert.ok(e, 'exec seen through the cgroup filter');
    assert.equal(e.ppid, c.pid);
    assert.equal(e.cgroup, cgroupIdOf(ctr));
    const d = new CgroupNames().describe(e.cgroup);
    assert.deepEqual(d.container, { runtime: 'kubepods', id: ID, pod: POD });
  } finally {
    tracer.close();
    await sleep(200);
    for (const d of [ctr, `${base}/kubepods/burstable/pod${POD}`, `${base}/kubepods/burstable`, `${base}/kubepods`, base]) rmdirSync(d);
  }
});
