// The wildcards of attach targets: `*` any run, `?` one character (libbpf's SEC("kprobe.multi/tcp_*"),
// bpftrace's `kprobe:vfs_*`).
export const hasGlob = (s: string): boolean => /[*?]/.test(s);

/** A predicate matching whole names against `pattern`. */
export function globMatcher(pattern: string): (name: string) => boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return (name) => re.test(name);
}
