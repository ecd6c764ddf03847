// cgroup v2 ids and paths. On the unified hierarchy a cgroup's id (what bpf_get_current_cgroup_id()
// returns) is the inode number of its directory, so path -> id is a stat, and id -> path a walk of
// the cgroup2 mount, cached and refreshed when an id is not found.
import { statSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { containerOfCgroup, type Container } from './container.js';

let root2: string | undefined;

/** Where cgroup2 is mounted: /sys/fs/cgroup on unified systems, /sys/fs/cgroup/unified on hybrid ones. */
export function cgroup2Root(): string {
  if (root2) return root2;
  let found: string | undefined;
  try {
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[2] === 'cgroup2' && f[1]) {
        found = f[1].replace(/\\040/g, ' ');
        if (found === '/sys/fs/cgroup') break;
      }
    }
  } catch {
    /* no /proc: fall through */
  }
  root2 = found ?? '/sys/fs/cgroup';
  return root2;
}

/** Accepts "/sys/fs/cgroup/a/b", "a/b" or "/a/b" (relative to the cgroup root). */
export function cgroupDir(path: string, root = cgroup2Root()): string {
  if (path.startsWith(root + '/') || path === root) return path;
  return join(root, path.replace(/^\/+/, ''));
}

/** The cgroup id of a cgroup directory. Throws a clear error when it is not a cgroup v2 directory. */
export function cgroupIdOf(path: string, root = cgroup2Root()): bigint {
  const dir = cgroupDir(path, root);
  let st;
  try {
    st = statSync(dir, { bigint: true });
  } catch (err) {
    throw new Error(`cgroup ${path}: ${(err as Error).message} (give a directory under ${root})`);
  }
  if (!st.isDirectory()) throw new Error(`cgroup ${path}: not a directory`);
  return st.ino;
}

/** Depth below the root (root = 0): the level bpf_get_current_ancestor_cgroup_id() takes. */
export function cgroupLevelOf(path: string, root = cgroup2Root()): number {
  const rel = relative(root, resolve(cgroupDir(path, root)));
  if (rel.startsWith('..')) throw new Error(`cgroup ${path}: not under ${root}`);
  return rel ? rel.split('/').length : 0;
}

/** Kernel filter settings for "this cgroup and everything below it". */
export function cgroupFilter(path: string, root = cgroup2Root()): { targ_cgroup_id: bigint; targ_cgroup_level: number } {
  return { targ_cgroup_id: cgroupIdOf(path, root), targ_cgroup_level: cgroupLevelOf(path, root) };
}

/** id -> path (relative to the root, "/" for the root itself) by walking the hierarchy. */
export class CgroupResolver {
  private byId = new Map<bigint, string>();
  private lastWalk = 0;

  constructor(private readonly root = cgroup2Root()) {}

  private walk(): void {
    const map = new Map<bigint, string>();
    const visit = (dir: string, depth: number) => {
      let st;
      try {
        st = statSync(dir, { bigint: true });
      } catch {
        return; // removed while walking
      }
      const rel = relative(this.root, dir);
      map.set(st.ino, rel ? `/${rel}` : '/');
      if (depth > 64) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) visit(join(dir, e.name), depth + 1);
    };
    visit(this.root, 0);
    this.byId = map;
    this.lastWalk = Date.now();
  }

  /** The cgroup path of an id, or undefined (a cgroup gone before we looked). */
  path(id: bigint | number): string | undefined {
    const key = BigInt(id);
    if (!this.byId.has(key) && Date.now() - this.lastWalk > 200) this.walk();
    return this.byId.get(key);
  }

  /** The container named by the cgroup of this id, if any. */
  container(id: bigint | number): Container | undefined {
    const p = this.path(id);
    return p ? containerOfCgroup(p) : undefined;
  }
}
