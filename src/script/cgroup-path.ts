// cgroup_path(id) as bpftrace prints it: the cgroup whose inode number is `id`, looked for in each
// mounted cgroup hierarchy ("unified" for cgroup2, the controllers' names for v1 ones), as
// `name:/path` joined by commas, unified first, then by name; a hierarchy without it is left out.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface Hierarchy { name: string; mount: string }

function hierarchies(): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const [fstype, , opts] = post.split(' ');
    const mount = pre.split(' ')[4]!;
    if (fstype === 'cgroup2') out.push({ name: 'unified', mount });
    else if (fstype === 'cgroup') {
      const names = (opts ?? '').split(',').filter((o) => !['rw', 'ro', 'relatime', 'noexec', 'nosuid', 'nodev', 'clone_children'].includes(o) && !o.startsWith('release_agent'));
      out.push({ name: names.map((n) => n.replace(/^name=/, '')).join(','), mount });
    }
  }
  return out.sort((a, b) => (a.name === 'unified' ? -1 : b.name === 'unified' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function find(dir: string, rel: string, ino: bigint, depth: number): string | undefined {
  try {
    if (statSync(dir, { bigint: true }).ino === ino) return rel || '/';
  } catch {
    return undefined;
  }
  if (depth > 16) return undefined;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const r = find(join(dir, e.name), `${rel}/${e.name}`, ino, depth + 1);
    if (r) return r;
  }
  return undefined;
}

const cache = new Map<string, string>();

/** `filter`: only the hierarchies whose name matches it (a wildcard pattern, as bpftrace's). */
export function cgroupPath(id: bigint, filter?: string): string {
  const key = `${id}:${filter ?? ''}`;
  let s = cache.get(key);
  if (s === undefined) {
    const parts: string[] = [];
    const want = filter === undefined ? undefined : new RegExp(`^${filter.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    for (const h of hierarchies()) {
      if (want && !want.test(h.name)) continue;
      const p = find(h.mount, '', id, 0);
      if (p) parts.push(`${h.name}:${p}`);
    }
    cache.set(key, (s = parts.join(',')));
  }
  return s;
}
