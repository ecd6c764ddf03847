// biolatency: block I/O latency as log2 histograms (all disks, per disk, per rwbs flags), from
// block_rq_issue (or block_rq_insert with `queued`) to block_rq_complete.
//
//   const b = await Biolatency.open({ perDisk: true }); ...; console.log(b.snapshot()); b.close();
import { readFileSync } from 'node:fs';
import { AggregationTool, openTool } from '../common/tracer.js';
import { cgroupFilter } from '../common/cgroup.js';
import { readHists, type LatencyHist } from '../common/histmap.js';
import { num, str } from '../common/decode.js';
import type { LoadConstantsOf, ProgramOf } from '../../kernel/typed.js';
import type { BiolatencyObjects } from './biolatency.gen.js';

export const PROGRAMS: ProgramOf<typeof BiolatencyObjects>[] = ['block_rq_issue', 'block_rq_complete'];
export const QUEUED_PROGRAMS = ['block_rq_insert', ...PROGRAMS];

export interface BiolatencyOptions {
  perDisk?: boolean;
  /** one histogram per rwbs flags string (R, W, WS, FWS, ...) */
  perFlag?: boolean;
  milliseconds?: boolean;
  /** include the time queued (from block_rq_insert) */
  queued?: boolean;
  /** only this disk (name, as in /sys/block) */
  disk?: string;
  /** only I/O issued by tasks in this cgroup (the issuing task, which may be a kernel worker) */
  cgroup?: string;
  /** the aggregation maps pinned (an agent's counts survive its restart) */
  pin?: string;
}

export interface DiskKey {
  /** dev_t in the kernel's encoding (major << 20 | minor); 0 unless per disk */
  dev: number;
  /** disk name from /sys/dev/block */
  disk?: string;
  flags?: string;
}

/** The kernel's dev_t (MAJOR << 20 | MINOR) of a disk name, from /sys/block/NAME/dev. */
export function diskDev(name: string): number {
  let text: string;
  try {
    text = readFileSync(`/sys/class/block/${name}/dev`, 'utf8');
  } catch {
    throw new Error(`no block device '${name}' (see /sys/class/block)`);
  }
  const [maj, min] = text.trim().split(':').map(Number);
  return ((maj! << 20) | min!) >>> 0;
}

const names = new Map<number, string>();

/** Disk name of a kernel dev_t, from /sys/dev/block/MAJ:MIN/uevent. */
export function diskName(dev: number): string {
  let n = names.get(dev);
  if (n) return n;
  const majmin = `${dev >>> 20}:${dev & 0xfffff}`;
  try {
    n = /DEVNAME=(\S+)/.exec(readFileSync(`/sys/dev/block/${majmin}/uevent`, 'utf8'))?.[1] ?? majmin;
  } catch {
    n = majmin;
  }
  names.set(dev, n);
  return n;
}

export class Biolatency extends AggregationTool<BiolatencyOptions> {
  get hookName(): string {
    return `tracepoint block/${this.opts.queued ? 'block_rq_insert, block/' : ''}block_rq_issue, block/block_rq_complete`;
  }

  static async open(opts: BiolatencyOptions = {}): Promise<Biolatency> {
    const programs = opts.queued ? QUEUED_PROGRAMS : PROGRAMS;
    const constants: LoadConstantsOf<typeof BiolatencyObjects> = {
      targ_per_disk: opts.perDisk || undefined,
      targ_per_flag: opts.perFlag || undefined,
      targ_ms: opts.milliseconds || undefined,
      targ_queued: opts.queued || undefined,
      targ_dev: opts.disk ? diskDev(opts.disk) : undefined,
      ...(opts.cgroup ? cgroupFilter(opts.cgroup) : {}),
    };
    return openTool('biolatency', { constants, programs, pin: opts.pin ? { dir: opts.pin, maps: ['hists'] } : undefined }, (coll) => new Biolatency(coll, opts));
  }

  snapshot(clear = false): LatencyHist<DiskKey>[] {
    const keyOf = (k: unknown): DiskKey => {
      const o = k as { dev?: unknown; rwbs?: unknown };
      const key: DiskKey = { dev: num(o.dev) };
      if (this.opts.perDisk) key.disk = diskName(key.dev);
      if (this.opts.perFlag) key.flags = str(o.rwbs);
      return key;
    };
    return readHists(this.coll.map('hists'), this.opts.milliseconds ? 'msecs' : 'usecs', keyOf, clear).sort(
      (a, b) => a.key.dev - b.key.dev || (a.key.flags ?? '').localeCompare(b.key.flags ?? ''),
    );
  }
}
