// Shared printing for CLI commands: values decoded from BTF as compact text, and JSON lines.
import { inspect } from 'node:util';
import { Command } from 'commander';
import { requirePrivileges, ADMIN } from '../command/privileges.js';
import { toJson } from '../output/json.js';
import { stdout } from '../sys/stdout.js';

export { toJson };

/** One-line text of a decoded value: `{ pid: 1234, comm: 'curl' }`; bytes as hex. */
export function formatValue(v: unknown): string {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === 'bigint') return v.toString();
  return inspect(v, { breakLength: Infinity, depth: 6, maxArrayLength: 64, colors: false });
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** One line to standard output (src/sys/stdout.ts: a reader gone ends the command quietly, a failed write with one line). */
export const out = (line: string): void => stdout().write(line + '\n');

/**
 * `tsbpf map` and `tsbpf prog`: a command over the kernel's objects of one kind (CAP_SYS_ADMIN to
 * see them), with `list` printing each as a line of text or all as a JSON array.
 */
export function objectsCommand<T>(name: string, description: string, listed: string, list: () => T[], line: (x: T) => string, json: (x: T) => unknown): Command {
  const cmd = new Command(name).description(description).hook('preAction', () => requirePrivileges(name, ADMIN));
  cmd.command('list').description(listed).option('--json', 'a JSON array').action((o: { json?: boolean }) => {
    const all = list();
    if (o.json) out(toJson(all.map(json)));
    else for (const x of all) out(line(x));
  });
  return cmd;
}
