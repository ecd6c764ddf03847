// What a container is called, given its runtime and id (containerOfCgroup gives those): the names
// the runtimes keep on disk, read where each keeps them, cached, re-read when the file changed.
//   podman        <graphroot>/<driver>-containers/containers.json   ("names": ["web"])
//   docker        /var/lib/docker/containers/<id>/config.v2.json     ("Name": "/web")
//   containerd    /run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json (OCI bundle:
//                 io.kubernetes.cri.container-name, sandbox-name, sandbox-namespace, sandbox-uid)
//   cri-o         /run/containers/storage/overlay-containers/<id>/userdata/config.json (OCI bundle:
//                 io.kubernetes.container.name, io.kubernetes.pod.name, pod.namespace, pod.uid)
//   kubelet       /var/lib/kubelet/pods/<uid>/etc-hosts (pod name: the last line's host name) and the
//                 service-account volume's `namespace` file: for a pod whose runtime files are not here
// `hostRoot` prefixes every path: an agent in a container sees the host's files under /host.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Container } from './container.js';

export interface Pod {
  uid: string;
  namespace?: string;
  name?: string;
}

/** A container as events and metrics name it. */
export interface Identity {
  runtime: Container['runtime'];
  id: string;
  /** 12 hex, as `podman ps` and `docker ps` show */
  shortId: string;
  /** the runtime's name for it (podman/docker --name, the Kubernetes container name) */
  name?: string;
  pod?: Pod;
}

export interface IdentityRoots {
  /** prefix of every path below (the host's / seen from a container); default '' */
  hostRoot?: string;
  /** podman's graphroot; default /var/lib/containers/storage */
  podman?: string;
  docker?: string;
  containerd?: string;
  crio?: string;
  kubelet?: string;
}

const DEFAULTS: Required<Omit<IdentityRoots, 'hostRoot'>> = {
  podman: '/var/lib/containers/storage',
  docker: '/var/lib/docker',
  containerd: '/run/containerd/io.containerd.runtime.v2.task/k8s.io',
  crio: '/run/containers/storage/overlay-containers',
  kubelet: '/var/lib/kubelet',
};

function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Names from an OCI bundle's annotations (containerd's CRI plugin and CRI-O write them). */
function fromAnnotations(a: Record<string, string> | undefined): { name?: string; pod?: Partial<Pod> } | undefined {
  if (!a) return undefined;
  const name = a['io.kubernetes.cri.container-name'] ?? a['io.kubernetes.container.name'];
  const pod: Partial<Pod> = {};
  const ns = a['io.kubernetes.cri.sandbox-namespace'] ?? a['io.kubernetes.pod.namespace'];
  const podName = a['io.kubernetes.cri.sandbox-name'] ?? a['io.kubernetes.pod.name'];
  const uid = a['io.kubernetes.cri.sandbox-uid'] ?? a['io.kubernetes.pod.uid'];
  if (ns) pod.namespace = ns;
  if (podName) pod.name = podName;
  if (uid) pod.uid = uid;
  if (!name && !Object.keys(pod).length) return undefined;
  return { ...(name ? { name } : {}), pod };
}

export class ContainerNames {
  private readonly roots: Required<Omit<IdentityRoots, 'hostRoot'>>;
  private readonly cache = new Map<string, Identity>();
  private podman: { stamp: string; names: Map<string, string> } | undefined;

  constructor(roots: IdentityRoots = {}) {
    const host = roots.hostRoot ?? '';
    const r = { ...DEFAULTS, ...Object.fromEntries(Object.entries(roots).filter(([k, v]) => k !== 'hostRoot' && v !== undefined)) };
    this.roots = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, host + v])) as typeof this.roots;
  }

  /** The container with its name and pod, as far as this machine's files tell. */
  identify(c: Container): Identity {
    const key = `${c.runtime}:${c.id}`;
    const hit = this.cache.get(key);
    // a hit without a name is looked up again (a container seen before its runtime wrote its files)
    if (hit?.name) return hit;
    const id: Identity = { runtime: c.runtime, id: c.id, shortId: c.id.slice(0, 12) };
    const name = this.nameOf(c, id);
    if (name) id.name = name;
    if (c.pod || id.pod) id.pod = { ...this.podOf(c.pod ?? id.pod!.uid), ...id.pod, uid: c.pod ?? id.pod!.uid };
    this.cache.set(key, id);
    return id;
  }

  private nameOf(c: Container, out: Identity): string | undefined {
    if (c.runtime === 'podman') return this.podmanName(c.id);
    if (c.runtime === 'docker') {
      const n = readJson(join(this.roots.docker, 'containers', c.id, 'config.v2.json'))?.Name;
      return typeof n === 'string' ? n.replace(/^\//, '') : undefined;
    }
    // CRI runtimes (and bare kubepods ids, which either may have made)
    const bundles = [join(this.roots.containerd, c.id, 'config.json'), join(this.roots.crio, c.id, 'userdata', 'config.json')];
    for (const b of bundles) {
      const found = fromAnnotations(readJson(b)?.annotations);
      if (!found) continue;
      if (found.pod?.uid) out.pod = found.pod as Pod;
      return found.name;
    }
    return undefined;
  }

  /** podman's containers.json of whichever storage driver it uses, re-read when it changed. */
  private podmanName(id: string): string | undefined {
    let files: string[] = [];
    try {
      files = readdirSync(this.roots.podman).filter((d) => d.endsWith('-containers')).map((d) => join(this.roots.podman, d, 'containers.json'));
    } catch {
      return undefined;
    }
    const stamp = files.map((f) => {
      try {
        return `${f}:${statSync(f).mtimeMs}`;
      } catch {
        return '';
      }
    }).join(';');
    if (this.podman?.stamp !== stamp) {
      const names = new Map<string, string>();
      for (const f of files) for (const e of (readJson(f) ?? []) as { id?: string; names?: string[] }[]) if (e.id && e.names?.[0]) names.set(e.id, e.names[0]);
      this.podman = { stamp, names };
    }
    return this.podman.names.get(id);
  }

  /** Pod name and namespace from the kubelet's pod directory. */
  private podOf(uid: string): Partial<Pod> {
    const dir = join(this.roots.kubelet, 'pods', uid);
    const out: Partial<Pod> = {};
    // kubelet's etc-hosts ends with "<pod IP>\t<hostname>", the hostname being the pod's name
    const hosts = readText(join(dir, 'etc-hosts'))?.trim().split('\n').filter((l) => l && !l.startsWith('#'));
    const last = hosts?.[hosts.length - 1]?.split(/\s+/);
    if (last?.[1]) out.name = last[1];
    // the service-account token volume holds the pod's namespace
    for (const kind of ['kubernetes.io~projected', 'kubernetes.io~secret']) {
      let vols: string[] = [];
      try {
        vols = readdirSync(join(dir, 'volumes', kind));
      } catch {
        continue;
      }
      for (const v of vols) {
        const ns = readText(join(dir, 'volumes', kind, v, 'namespace'))?.trim();
        if (ns) return { ...out, namespace: ns };
      }
    }
    return out;
  }
}

/** "podman:0123456789ab(web)": runtime, short id and, when known, the name. */
export function identityLabel(i: Identity): string {
  return `${i.runtime}:${i.shortId}${i.name ? `(${i.name})` : ''}`;
}

/** cgroup id -> the container its tasks run in, named (cached per id: a cgroup's container never changes). */
export class Identities {
  private readonly names: ContainerNames;
  private readonly byCgroup = new Map<bigint, { id: Identity | null; at: number }>();

  constructor(
    private readonly cgroups: { container(id: bigint): Container | undefined },
    roots: IdentityRoots = {},
  ) {
    this.names = new ContainerNames(roots);
  }

  /** A container without a name is looked up again after this long (its runtime may write it later). */
  static readonly RETRY_MS = 2000;

  of(cgroup: bigint): Identity | undefined {
    const hit = this.byCgroup.get(cgroup);
    if (hit && (hit.id === null || hit.id.name || Date.now() - hit.at < Identities.RETRY_MS)) return hit.id ?? undefined;
    const c = this.cgroups.container(cgroup);
    const id = c ? this.names.identify(c) : undefined;
    this.byCgroup.set(cgroup, { id: id ?? null, at: Date.now() });
    return id;
  }
}
