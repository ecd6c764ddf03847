// tracefs: tracepoint ids and formats, and the dynamic-event files (kprobe_events, uprobe_events).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { O_APPEND, O_WRONLY, closeRaw, openFile, writeFd } from '../sys/io.js';
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

let functions: string[] | undefined;

/**
 * Kernel functions kprobes, kprobe.multi and fentry can attach to (available_filter_functions, the
 * list bpftrace and libbpf expand wildcards against), module suffixes dropped, each name once. Where
 * that file cannot be read (no ftrace, or refused under lockdown) the text symbols of /proc/kallsyms.
 */
export function traceableFunctions(): string[] {
  if (functions) return functions;
  const names = new Set<string>();
  try {
    for (const line of readFileSync(join(tracefsRoot(), 'available_filter_functions'), 'utf8').split('\n')) {
      const name = line.split(' ', 1)[0]!;
      if (name && !name.startsWith('__ftrace_invalid_address__')) names.add(name);
    }
  } catch {
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [, type, name] = line.split(/\s+/);
      if ((type === 't' || type === 'T') && name && !name.includes('.')) names.add(name);
    }
  }
  return (functions = [...names]);
}

/** Append one definition to a tracefs control file (kprobe_events, uprobe_events). */
export function appendControl(file: string, line: string): void {
  const p = join(tracefsRoot(), file);
  const fd = openFile(p, O_WRONLY | O_APPEND);
  try {
    writeFd(fd, new TextEncoder().encode(`${line}\n`), `write "${line}" to ${p}`);
  } finally {
    closeRaw(fd);
  }
}

export function hasControl(file: string): boolean {
  return existsSync(join(tracefsRoot(), file));
}
