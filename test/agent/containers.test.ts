// Container identity on real containers and on Kubernetes-shaped cgroups. podman runs a container
// from a locally imported busybox image: tcpconnect's and execsnoop's JSON events and the agent's
// labels name it (its name and id, as podman gives them). For Kubernetes, cgroups are made exactly
// as containerd and CRI-O (systemd driver) and the kubelet with cgroupfs make them, with the
// runtimes' bundle annotations and the kubelet's pod directory under a host root: the agent labels
// carry pod name, namespace and container name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { cgroup2Root } from '../../src/tools/common/cgroup.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { busyboxImage, podmanAsync, removeCgroupParent, RUN_FLAGS } from '../helpers/podman.js';
import { startAgent, writeConfig, values, sum, runWorkload, eventually, removeCgroupTree, CONNECTS_AND_EXECS, type AgentProcess } from './helpers.js';

const BIN = new URL('../../../bin/tsbpf', import.meta.url).pathname;

/** A tool's --json lines over `seconds` (it is started and ready before the promise's first tick ends). */
function toolJson(tool: string, args: string[], seconds: number): Promise<any[]> {
  const p = spawn(BIN, [tool, '--json', '--duration', String(seconds), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res) => p.on('exit', () => res(out.split('\n').filter(Boolean).map((l) => JSON.parse(l)))));
}

test('podman containers: events and agent labels name the container (name and short id)', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'podman')) return;
  const image = busyboxImage();
  const parent = `tsbpf-ctr-${process.pid}`;
  mkdirSync(join(cgroup2Root(), parent), { recursive: true });
  const name = `tsbpf-web-${process.pid}`;
  const server = createServer((_q, r) => r.end('ok')).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const cidfile = join(writeConfig('').replace(/agent\.yaml$/, ''), 'cid');
  const file = writeConfig(`listen: 127.0.0.1:0
node: c1
cgroup: /${parent}
pinPath: /sys/fs/bpf/tsbpf-ctr-test-${process.pid}
${CONNECTS_AND_EXECS}`);
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(file);
    const connects = toolJson('tcpconnect', ['--cgroup', `/${parent}`], 6);
    const execs = toolJson('execsnoop', ['--cgroup', `/${parent}`], 6);
    await new Promise((r) => setTimeout(r, 2000)); // both tools attached (start-up well under this)
    await podmanAsync(['run', '--rm', ...RUN_FLAGS, '--name', name, '--cidfile', cidfile, `--cgroup-parent=/${parent}`, '--network', 'host', image, 'sh', '-c', `wget -q -O /dev/null http://127.0.0.1:${port}/; sleep 1`]);
    const id = readFileSync(cidfile, 'utf8').trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const container = { runtime: 'podman', id, name };

    const c = (await connects).filter((e) => e.container?.id === id);
    assert.equal(c.length, 1, JSON.stringify(await connects));
    assert.deepEqual(c[0].container, container);
    assert.equal(c[0].comm, 'wget');
    assert.equal(c[0].dport, port);
    const e = (await execs).filter((x) => x.container?.id === id);
    // the container's first exec is its command (busybox then runs applets as /proc/self/exe)
    assert.ok(e.some((x) => x.comm === 'sh' && x.args[0] === '/bin/sh' && x.args[2].startsWith('wget')), JSON.stringify(e));
    for (const x of e) assert.deepEqual(x.container, container);

    const labels = { container: name, container_id: id.slice(0, 12) };
    let text = '';
    await eventually(async () => sum(values((text = await agent!.metrics()), 'tsbpf_tcp_connects_total', { ...labels, comm: 'wget' })) === 1, 5000, 'the agent counting the container');
    assert.equal(sum(values(text, 'tsbpf_execs_total', { ...labels, comm: 'sh' })), 1);
    assert.equal(await agent.stop(), 0);
    agent = undefined;
  } finally {
    await agent?.stop('SIGKILL');
    server.close();
    rmSync(`/sys/fs/bpf/tsbpf-ctr-test-${process.pid}`, { recursive: true, force: true });
    removeCgroupParent(parent);
  }
});

const POD_A = '3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8';
const POD_B = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const POD_C = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
const ID_A = 'a1'.repeat(32);
const ID_B = 'b2'.repeat(32);
const ID_C = 'c3'.repeat(32);

test('Kubernetes cgroups as containerd, CRI-O and the kubelet (cgroupfs) make them: pod, namespace and container name', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'python3')) return;
  const base = join(cgroup2Root(), `tsbpf-k8s-${process.pid}`);
  const slice = (qos: string, uid: string) => `kubepods.slice/kubepods-${qos}.slice/kubepods-${qos}-pod${uid.replace(/-/g, '_')}.slice`;
  const cgroups = {
    containerd: join(base, slice('burstable', POD_A), `cri-containerd-${ID_A}.scope`),
    crio: join(base, slice('besteffort', POD_B), `crio-${ID_B}.scope`),
    kubelet: join(base, 'kubepods', 'burstable', `pod${POD_C}`, ID_C),
  };
  for (const d of Object.values(cgroups)) mkdirSync(d, { recursive: true });
  const host = join(writeConfig('').replace(/agent\.yaml$/, ''), 'host');
  const put = (p: string, text: string) => (mkdirSync(join(host, p, '..'), { recursive: true }), writeFileSync(join(host, p), text));
  put(`run/containerd/io.containerd.runtime.v2.task/k8s.io/${ID_A}/config.json`, JSON.stringify({ annotations: { 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'api', 'io.kubernetes.cri.sandbox-name': 'api-7d9f8-x2x', 'io.kubernetes.cri.sandbox-namespace': 'shop', 'io.kubernetes.cri.sandbox-uid': POD_A } }));
  put(`run/containers/storage/overlay-containers/${ID_B}/userdata/config.json`, JSON.stringify({ annotations: { 'io.kubernetes.container.name': 'worker', 'io.kubernetes.pod.name': 'worker-0', 'io.kubernetes.pod.namespace': 'batch', 'io.kubernetes.pod.uid': POD_B } }));
  put(`var/lib/kubelet/pods/${POD_C}/etc-hosts`, '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n10.244.1.7\tdb-1\n');
  put(`var/lib/kubelet/pods/${POD_C}/volumes/kubernetes.io~projected/kube-api-access-8xk2p/namespace`, 'data\n');
  const pinPath = `/sys/fs/bpf/tsbpf-k8s-test-${process.pid}`;
  const file = writeConfig(`listen: 127.0.0.1:0
node: k1
cgroup: ${base}
pinPath: ${pinPath}
hostRoot: ${host}
programs:
  - name: execs
    tool: execsnoop
    labels: [namespace, pod, container, container_id, comm]
`);
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(file);
    for (const cg of Object.values(cgroups)) runWorkload({ cgroup: cg, connects: 0, execs: [['/bin/true']] });
    const want = [
      { namespace: 'shop', pod: 'api-7d9f8-x2x', container: 'api', container_id: ID_A.slice(0, 12) },
      { namespace: 'batch', pod: 'worker-0', container: 'worker', container_id: ID_B.slice(0, 12) },
      { namespace: 'data', pod: 'db-1', container: ID_C.slice(0, 12), container_id: ID_C.slice(0, 12) },
    ];
    let text = '';
    await eventually(async () => sum(values((text = await agent!.metrics()), 'tsbpf_execs_total', { comm: 'true' })) === 3, 5000, 'three execs');
    for (const w of want) assert.deepEqual(values(text, 'tsbpf_execs_total', { ...w, comm: 'true' }), [1], `${JSON.stringify(w)}\n${text}`);
    assert.equal(await agent.stop(), 0);
    agent = undefined;
  } finally {
    await agent?.stop('SIGKILL');
    rmSync(pinPath, { recursive: true, force: true });
    rmSync(host, { recursive: true, force: true });
    await removeCgroupTree(base);
  }
});
