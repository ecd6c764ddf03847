// What a tc-limit killed before it could undo its changes left on an interface: the fq root qdisc
// it put in place for EDT pacing (the qdisc it replaced is only in its owner record), and with
// --netlink (or before tcx) its cls_bpf filter and the clsact qdisc it created. A tcx attachment
// dies with the process. Each limiter records (src/tools/common/owner.ts) what it is about to
// change before changing it; the next one on the same interface and direction reads the record of
// a dead owner, puts things back, and says what it found.
import { clsactPresent, removeTcFilters, restoreRootQdisc, rootQdisc, type TcDirection } from '../../link/netlink.js';
import type { Qdisc } from '../../link/netlink.js';
import { Ownership, ownerAlive, readOwner, removeOwner } from '../common/owner.js';

const TOOL = 'tc-limit';
/** the cls_bpf filter's name (TcLimiter attaches under it) */
export const FILTER_NAME = 'tc_limit';

interface SavedQdisc extends Omit<Qdisc, 'options'> {
  options?: string;
}

/** What a limiter changed, as far as the kernel cannot tell it afterwards. */
export interface LimitRecord {
  /** it replaced the root qdisc with fq; `previous` is what was there */
  fq?: { previous?: SavedQdisc };
  /** it attached a cls_bpf filter by netlink; `clsact`: it created the clsact qdisc for it */
  netlink?: { clsact: boolean };
}

const save = (q: Qdisc | undefined): SavedQdisc | undefined =>
  q && { ...q, options: q.options ? Buffer.from(q.options).toString('base64') : undefined };
const restore = (q: SavedQdisc | undefined): Qdisc | undefined =>
  q && { ...q, options: q.options !== undefined ? new Uint8Array(Buffer.from(q.options, 'base64')) : undefined };

/**
 * Before a limiter changes anything on `iface` at `dir`: refuse if a running one limits it already;
 * undo what a dead one left (reported through `report`). Returns this limiter's record.
 */
export function claimInterface(iface: string, dir: TcDirection, report: ((line: string) => void) | undefined): LimitOwnership {
  const key = `${iface}.${dir}`;
  const rec = readOwner<LimitRecord>(TOOL, key);
  if (rec && ownerAlive(rec)) throw new Error(`tc-limit: the ${dir} of ${iface} is already limited by pid ${rec.pid}; end that one first`);
  if (rec) {
    const done: string[] = [];
    const previous = restore(rec.data.fq?.previous);
    if (rec.data.fq && rootQdisc(iface)?.kind === 'fq') {
      restoreRootQdisc(iface, previous);
      done.push(`root qdisc fq (${previous ? `${previous.kind} put back` : 'the default put back'})`);
    }
    if (rec.data.netlink) done.push(...removeTcFilters(iface, dir, FILTER_NAME, rec.data.netlink.clsact));
    if (done.length) report?.(`found what pid ${rec.pid} (no longer running) left on ${iface}: ${done.join(', ')}; removed`);
    removeOwner(TOOL, key);
  }
  return new LimitOwnership(key);
}

/** A limiter's record: noted before each change it makes. */
export class LimitOwnership {
  private data: LimitRecord = {};
  private readonly owner: Ownership<LimitRecord>;

  constructor(key: string) {
    this.owner = new Ownership<LimitRecord>(TOOL, key, this.data);
  }

  /** About to replace the root qdisc of `iface` with fq. */
  replacingRoot(iface: string): void {
    this.data = { ...this.data, fq: { previous: save(rootQdisc(iface)) } };
    this.owner.update(this.data);
  }

  /** About to attach a filter by netlink on `iface`. */
  attachingByNetlink(iface: string): void {
    this.data = { ...this.data, netlink: { clsact: !clsactPresent(iface) } };
    this.owner.update(this.data);
  }

  release(): void {
    this.owner.release();
  }
}
