// deploy/: the image builds with podman from the checkout without pulling (scripts/agent-image.js:
// the machine's Node and the package, FROM scratch), runs the agent under podman with only
// CAP_BPF and CAP_PERFMON, and a real Prometheus scrapes it; the DaemonSet asks for what the
// image needs and no more; the systemd unit runs, reloads and stops the agent as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cgroup2Root } from '../../src/tools/common/cgroup.js';
import { parseConfig } from '../../src/agent/config.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { podman, podmanAsync, RUN_FLAGS } from '../helpers/podman.js';
import { writeConfig, runWorkload, eventually, removeCgroupTree } from './helpers.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

const root = new URL('../../../', import.meta.url).pathname;

test('deploy: the DaemonSet and the systemd unit ask for what the agent needs', () => {
  const docs = parseAllDocuments(readFileSync(join(root, 'deploy/daemonset.yaml'), 'utf8')).map((d) => d.toJS());
  const ds = docs.find((d) => d.kind === 'DaemonSet');
  const spec = ds.spec.template.spec;
  assert.equal(spec.hostPID, true);
  const c = spec.containers[0];
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['BPF', 'PERFMON'] });
  assert.equal(c.securityContext.privileged, undefined);
  assert.ok(c.resources.limits.cpu && c.resources.limits.memory);
  const mounts = new Map(c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]));
  for (const p of ['/sys/fs/bpf', '/sys/kernel/tracing', '/sys/kernel/debug', '/sys/fs/cgroup', '/etc/tsbpf']) assert.ok(mounts.has(p), p);
  // the ConfigMap's config is one the agent accepts
  const cm = docs.find((d) => d.kind === 'ConfigMap');
  assert.equal(parseConfig(cm.data['agent.yaml'], 'configmap').hostRoot, '/host');
  parseConfig(readFileSync(join(root, 'deploy/agent.yaml'), 'utf8'), 'deploy/agent.yaml');
  const unit = readFileSync(join(root, 'deploy/tsbpf-agent.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/tsbpf\/bin\/tsbpf agent --config \/etc\/tsbpf\/agent\.yaml$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.match(unit, /^AmbientCapabilities=CAP_BPF CAP_PERFMON/m);
});

test('deploy: the image builds without pulling, runs under podman with CAP_BPF and CAP_PERFMON, and Prometheus scrapes it', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'podman') || !needsCommand(t, 'prometheus') || !needsCommand(t, 'python3')) return;
  const tag = `localhost/tsbpf-agent:test-${process.pid}`;
  const name = `tsbpf-agent-test-${process.pid}`;
  const scope = join(cgroup2Root(), `tsbpf-deploy-${process.pid}`);
  mkdirSync(scope, { recursive: true });
  const pinPath = `/sys/fs/bpf/tsbpf-deploy-test-${process.pid}`;
  let prom: Prometheus | undefined;
  try {
    execFileSync(process.execPath, [join(root, 'scripts/agent-image.js'), '--tag', tag], { stdio: ['ignore', 'ignore', 'inherit'] });
    // nothing but what the script staged: no base image
    assert.equal(podman(['image', 'inspect', tag, '--format', '{{len .RootFS.Layers}}']), '1');
    prom = await startPrometheus('1s');
    const port = 19000 + (process.pid % 1000);
    const config = writeConfig(`listen: 127.0.0.1:${port}\ncgroup: ${scope.slice(cgroup2Root().length)}\npinPath: ${pinPath}\nprograms:\n  - name: connects\n    tool: tcpconnect\n`);
    await podmanAsync([
      'run', '-d', '--rm', '--name', name, ...RUN_FLAGS, '--network', 'host', '--pid', 'host', '--cgroupns', 'host',
      '--cap-drop', 'all', '--cap-add', 'BPF,PERFMON', '--security-opt', 'seccomp=unconfined', '--read-only',
      '-v', '/sys/fs/bpf:/sys/fs/bpf', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro,rbind', '-v', '/sys/kernel/tracing:/sys/kernel/tracing:ro', '-v', `${config}:/etc/tsbpf/agent.yaml:ro`,
      tag, '--config', '/etc/tsbpf/agent.yaml', '--node', 'podnode',
    ]);
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status).catch(() => 0)) === 200, 20_000, 'the agent in the container');
    prom.setTargets([{ targets: [`127.0.0.1:${port}`] }]);
    runWorkload({ cgroup: scope, connects: 3, execs: [] });
    await eventually(async () => (await prom!.query('sum(tsbpf_tcp_connects_total{node="podnode"})'))[0]?.value === 3, 20_000, 'Prometheus reading 3 connects from the container');
    assert.ok(existsSync(join(pinPath, 'podnode')));
    await podmanAsync(['stop', '-t', '10', name]);
    assert.ok(!existsSync(join(pinPath, 'podnode')), 'a stopped container removes its pins');
  } finally {
    spawnSync('podman', ['rm', '-f', name], { stdio: 'ignore' });
    spawnSync('podman', ['rmi', '-f', tag], { stdio: 'ignore' });
    await prom?.close();
    rmSync(pinPath, { recursive: true, force: true });
    await removeCgroupTree(scope);
  }
});
