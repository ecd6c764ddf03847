// tracefs: tracepoint ids and formats, and the dynamic-event files (kprobe_events, uprobe_events).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../sys/native.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { ensureTracefs } from '../sys/mounts.js';
import { parseTracepointFormat, type TracepointFormat } from './format.js';

let root: string | undefined;

/** The tracefs mount (mounted if needed). */
export function tracefsRoot(): string {
  return (root ??= ensureTracefs());
}

const NAME_RE = /^[A-Za-z0-9_.-]+$/;

function eventDir(category: string, name: string): string {
  if (!NAME_RE.test(category) || !NAME_RE.test(name)) throw new TypeError(`bad tracepoint name ${category}:${name}`);
  return join(tracefsRoot(), 'events', category, name);
}

/** The perf tracepoint id of CAT/NAME (events/CAT/NAME/id). */
export function tracepointId(category: string, name: string): number {
  const p = join(eventDir(category, name), 'id');
  if (!existsSync(p)) {
    throw new SyscallError('open', Errno.ENOENT, `tracepoint ${category}:${name}`, `no ${p}: see ${tracefsRoot()}/available_events for what exists`);
  }
  return Number(readFileSync(p, 'utf8').trim());
}

export function tracepointFormat(category: string, name: string): TracepointFormat {
  return parseTracepointFormat(readFileSync(join(eventDir(category, name), 'format'), 'utf8'));
}

export function tracepointExists(category: string, name: string): boolean {
  try {
    return existsSync(join(eventDir(category, name), 'id'));
  } catch {
    return false;
  }
}

/** Tracepoint categories, or the events of one category. */
export function tracepoints(category?: string): string[] {
  const dir = category ? join(tracefsRoot(), 'events', category) : join(tracefsRoot(), 'events');
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

const O_WRONLY = 1;
const O_APPEND = 0o2000;

/** Append one definition to a tracefs control file (kprobe_events, uprobe_events). */
export function appendControl(file: string, line: string): void {
  const p = join(tracefsRoot(), file);
  const n = native();
  const fd = n.open(p, O_WRONLY | O_APPEND);
  if (fd < 0) throw new SyscallError('open', -fd, `open ${p}`);
  try {
    const r = n.write(fd, new TextEncoder().encode(`${line}\n`));
    if (r < 0) throw new SyscallError('write', -r, `write "${line}" to ${p}`);
  } finally {
    n.close(fd);
  }
}

export function hasControl(file: string): boolean {
  return existsSync(join(tracefsRoot(), file));
}
