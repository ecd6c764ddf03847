// Who runs a network tool on an interface, for the next run to tell after a SIGKILL. What such a
// tool changes by netlink (an XDP program, a clsact qdisc and its filter, the root qdisc) and what it
// pins outlives a process killed before it could undo them. So it records, in
// /run/tsbpf/<tool>/<key>.json (tmpfs: gone at reboot, like the kernel state it describes), its pid,
// the pid's start time (a reused pid is not its owner) and what undoing needs that the kernel does
// not say (the root qdisc it replaced); written before the kernel is changed, removed once undone.
// The next run reads it: a live owner means the tool already runs there; a dead one left what the
// record and the kernel show, which that run reports and removes.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup } from '../../sys/cleanup.js';

export const OWNER_DIR = '/run/tsbpf';

export interface OwnerRecord<T> {
  pid: number;
  /** start time of the pid (clock ticks since boot, /proc/PID/stat field 22) */
  start: string;
  data: T;
}

/** Start time of a process, or undefined if there is no such process. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from its closing one
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True if the record's process still runs (the same one: its start time matches). */
export function ownerAlive(r: OwnerRecord<unknown>): boolean {
  return processStart(r.pid) === r.start;
}

function recordPath(tool: string, key: string, dir: string): string {
  return join(dir, tool, `${key.replace(/[^A-Za-z0-9_.@-]/g, '_')}.json`);
}

/** The record of `tool` for `key` (an interface), if there is one. */
export function readOwner<T>(tool: string, key: string, dir = OWNER_DIR): OwnerRecord<T> | undefined {
  try {
    const r = JSON.parse(readFileSync(recordPath(tool, key, dir), 'utf8')) as OwnerRecord<T>;
    return typeof r.pid === 'number' && typeof r.start === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Remove a record (after what it described was undone). */
export function removeOwner(tool: string, key: string, dir = OWNER_DIR): void {
  rmSync(recordPath(tool, key, dir), { force: true });
}

/**
 * This process's record for `tool` on `key`: written now (replacing a dead owner's), updated with
 * update(), removed by release() — and at exit or on a signal if release() was not reached.
 */
export class Ownership<T> {
  private readonly path: string;
  private readonly undo: () => void;

  constructor(
    readonly tool: string,
    readonly key: string,
    private data: T,
    dir = OWNER_DIR,
  ) {
    this.path = recordPath(tool, key, dir);
    mkdirSync(join(dir, tool), { recursive: true });
    this.write();
    this.undo = onCleanup(`remove ${this.path}`, () => rmSync(this.path, { force: true }));
  }

  update(data: T): void {
    this.data = data;
    this.write();
  }

  release(): void {
    this.undo();
  }

  private write(): void {
    const r: OwnerRecord<T> = { pid: process.pid, start: processStart(process.pid) ?? '', data: this.data };
    // written whole or not at all: a reader never sees half a record
    const tmp = `${this.path}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(r));
    renameSync(tmp, this.path);
  }
}
