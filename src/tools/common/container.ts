// Which container a cgroup path belongs to, from the names runtimes give their cgroups:
//   docker      /docker/<id>, docker-<id>.scope (systemd driver)
//   containerd  cri-containerd-<id>.scope, /containerd/<id>, k8s.io/<id>
//   cri-o       crio-<id>.scope, crio-conmon-<id>.scope
//   podman      libpod-<id>.scope, libpod-conmon-<id>.scope, /libpod_parent/libpod-<id>
//   kubepods    /kubepods/<qos>/pod<uid>/<id>, kubepods-<qos>-pod<uid>.slice/... (pod uid kept)
// Pure: a path in, a description out. The innermost match wins (nested runtimes, kind clusters).

export type Runtime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'kubepods';

export interface Container {
  runtime: Runtime;
  /** the full 64-hex container id */
  id: string;
  /** Kubernetes pod UID when the path is under kubepods */
  pod?: string;
}

const HEX64 = '([0-9a-f]{64})';

const PATTERNS: [Runtime, RegExp][] = [
  ['docker', new RegExp(`^docker-${HEX64}\\.scope$`)],
  ['containerd', new RegExp(`^cri-containerd-${HEX64}\\.scope$`)],
  ['cri-o', new RegExp(`^crio-(?:conmon-)?${HEX64}(?:\\.scope)?$`)],
  ['podman', new RegExp(`^libpod-(?:conmon-)?${HEX64}(?:\\.scope)?$`)],
];

/** Parent directory names that say which runtime a bare 64-hex child belongs to. */
const PARENTS: [Runtime, RegExp][] = [
  ['docker', /^docker$/],
  ['containerd', /^(containerd|k8s\.io)$/],
  ['podman', /^libpod_parent$/],
];

function podOf(parts: string[]): string | undefined {
  for (const p of parts) {
    // cgroupfs driver: pod<uid with dashes>; systemd driver: kubepods-<qos>-pod<uid with underscores>.slice
    const m = /(?:^|-)pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/.exec(p);
    if (m) return m[1]!.replace(/_/g, '-');
  }
  return undefined;
}

/** The container a cgroup v2 path (as in /proc/PID/cgroup "0::/...") names, if any. */
export function containerOfCgroup(path: string): Container | undefined {
  const parts = path.split('/').filter(Boolean);
  const kube = parts.some((p) => p === 'kubepods' || p.startsWith('kubepods-') || p === 'kubepods.slice');
  const pod = kube ? podOf(parts) : undefined;
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!;
    for (const [runtime, re] of PATTERNS) {
      const m = re.exec(p);
      if (m) return withPod({ runtime, id: m[1]! }, pod);
    }
    if (/^[0-9a-f]{64}$/.test(p)) {
      const parent = parts[i - 1] ?? '';
      for (const [runtime, re] of PARENTS) if (re.test(parent)) return withPod({ runtime, id: p }, pod);
      if (kube) return withPod({ runtime: 'kubepods', id: p }, pod);
    }
  }
  return undefined;
}

function withPod(c: Container, pod: string | undefined): Container {
  return pod ? { ...c, pod } : c;
}

/** "docker:0123456789ab" style short name (12 hex, as `docker ps` shows), or "" outside containers. */
export function containerLabel(path: string): string {
  const c = containerOfCgroup(path);
  return c ? `${c.runtime}:${c.id.slice(0, 12)}` : '';
}

/** The cgroup v2 path from /proc/PID/cgroup text (the "0::" line). */
export function unifiedCgroupPath(procCgroup: string): string | undefined {
  for (const line of procCgroup.split('\n')) if (line.startsWith('0::')) return line.slice(3).trim() || '/';
  return undefined;
}
