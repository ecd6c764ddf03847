import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, mkdtempSync, rmdirSync } from 'node:fs';
import { containerOfCgroup, containerLabel, unifiedCgroupPath } from '../../src/tools/common/container.js';
import { cgroupIdOf, cgroupLevelOf, cgroupDir, CgroupResolver, cgroup2Root } from '../../src/tools/common/cgroup.js';

const ID = '3f4e2a1b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b';
const POD = '8a7b6c5d-1234-4abc-9def-0123456789ab';

test('container runtimes are named from their cgroup paths', () => {
  const cases: [string, string, string, string | undefined][] = [
    [`/docker/${ID}`, 'docker', ID, undefined],
    [`/system.slice/docker-${ID}.scope`, 'docker', ID, undefined],
    [`/system.slice/containerd.service/k8s.io/${ID}`, 'containerd', ID, undefined],
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`, 'containerd', ID, POD],
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD.replace(/-/g, '_')}.slice/crio-${ID}.scope`, 'cri-o', ID, POD],
    [`/machine.slice/libpod-${ID}.scope/container`, 'podman', ID, undefined],
    [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-${ID}.scope`, 'podman', ID, undefined],
    [`/kubepods/burstable/pod${POD}/${ID}`, 'kubepods', ID, POD],
    [`/kubepods/pod${POD}/${ID}`, 'kubepods', ID, POD],
  ];
  for (const [path, runtime, id, pod] of cases) {
    const c = containerOfCgroup(path);
    assert.ok(c, path);
    assert.equal(c.runtime, runtime, path);
    assert.equal(c.id, id, path);
    assert.equal(c.pod, pod, path);
  }
  assert.equal(containerLabel(`/docker/${ID}`), `docker:${ID.slice(0, 12)}`);
});

test('ordinary cgroups are not containers', () => {
  for (const p of ['/', '/user.slice/user-0.slice/session-1.scope', '/system.slice/ssh.service', `/docker/${ID.slice(1)}`, '', '/init.scope', `/x/${ID}`]) {
    assert.equal(containerOfCgroup(p), undefined, p);
    assert.equal(containerLabel(p), '');
  }
});

test('parsing survives arbitrary input', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = `/-_.abcdef0123456789${ID}kubepodsdockerlibpodcriocontainerdscopeslice`;
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = Math.floor(rnd() * 200);
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    containerOfCgroup(s);
    unifiedCgroupPath(s);
  }
  assert.equal(unifiedCgroupPath('12:cpu:/a\n0::/user.slice/x.scope\n'), '/user.slice/x.scope');
  assert.equal(unifiedCgroupPath('0::/\n'), '/');
  assert.equal(unifiedCgroupPath('garbage'), undefined);
});

test('cgroup ids are the inode numbers of cgroup v2 directories, and resolve back to paths', (t) => {
  const mine = unifiedCgroupPath(readFileSync('/proc/self/cgroup', 'utf8'));
  if (!mine) return t.skip('no cgroup v2 line in /proc/self/cgroup');
  const id = cgroupIdOf(mine);
  assert.equal(id, statSync(cgroupDir(mine), { bigint: true }).ino);
  assert.equal(cgroupLevelOf('/'), 0);
  assert.equal(cgroupLevelOf(mine), mine === '/' ? 0 : mine.split('/').filter(Boolean).length);
  const r = new CgroupResolver();
  assert.equal(r.path(id), mine);
  assert.equal(r.path(1n << 62n), undefined);
  assert.throws(() => cgroupIdOf('/no/such/cgroup/here'), /no\/such\/cgroup/);
});

test('a new cgroup is found by id after it is created', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to create a cgroup');
  const r = new CgroupResolver();
  r.path(1n); // first walk
  const dir = mkdtempSync(`${cgroup2Root()}/tsbpf-test-`);
  try {
    const id = cgroupIdOf(dir);
    const deadline = Date.now() + 2000;
    let p: string | undefined;
    while (!(p = r.path(id)) && Date.now() < deadline) {
      const until = Date.now() + 210;
      while (Date.now() < until) {
        /* the resolver re-walks at most every 200 ms */
      }
    }
    assert.equal(p, dir.slice(cgroup2Root().length));
  } finally {
    rmdirSync(dir);
  }
});
