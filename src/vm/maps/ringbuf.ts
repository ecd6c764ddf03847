// BPF_MAP_TYPE_RINGBUF: programs reserve a record (a writable region in VM memory), then submit or
// discard it; the host consumes submitted records in order. Capacity is max_entries bytes, each record
// costing its 8-byte header plus its length rounded up to 8, as in the kernel.
import type { Region, VmMemory } from '../memory.js';
import { MapError, VmMap, type MapSpec } from './map.js';

const HDR = 8;
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;

interface Pending {
  addr: number;
  len: number;
  region: Region;
}

export class RingBufMap extends VmMap {
  private readonly pending = new Map<number, Pending>();
  private readonly ready: Uint8Array[] = [];
  private used = 0;
  private prodPos = 0;
  private consPos = 0;
  /** Called on every submitted record (after it is queued), e.g. to wake an async reader. */
  onRecord?: (record: Uint8Array) => void;

  constructor(spec: MapSpec, mem: VmMemory) {
    super(spec, mem);
    const n = spec.maxEntries;
    if (n < 4096 || (n & (n - 1)) !== 0) throw new MapError(`${spec.name}: ring buffer size must be a power of 2 and at least 4096, not ${n}`);
  }

  private cost(len: number): number {
    return HDR + ((len + 7) & ~7);
  }

  /** Reserve a record; returns its address or 0 when the ring is full. */
  reserve(len: number): number {
    if (len <= 0 || this.used + this.cost(len) > this.spec.maxEntries) return 0;
    const addr = this.mem.alloc(len);
    const region = this.mem.addRegion({ start: addr, end: addr + len, kind: 'ringbuf', writable: true, label: `ring buffer '${this.name}' record`, owner: this });
    this.pending.set(addr, { addr, len, region });
    this.used += this.cost(len);
    this.prodPos += this.cost(len);
    return addr;
  }

  /** Submit (or discard) a reserved record; false if addr is not an outstanding record. */
  commit(addr: number, discard: boolean): boolean {
    const p = this.pending.get(addr);
    if (!p) return false;
    this.pending.delete(addr);
    const data = this.mem.read(addr, p.len);
    this.mem.removeRegion(p.region);
    this.mem.release(addr);
    if (discard) {
      this.used -= this.cost(p.len);
      this.consPos += this.cost(p.len);
      return true;
    }
    this.ready.push(data);
    this.onRecord?.(data);
    return true;
  }

  /** Records reserved and neither submitted nor discarded (a leak once a run has ended). */
  get outstanding(): number {
    return this.pending.size;
  }

  query(flag: number): bigint {
    switch (flag) {
      case BPF_RB_AVAIL_DATA: return BigInt(this.prodPos - this.consPos);
      case BPF_RB_RING_SIZE: return BigInt(this.spec.maxEntries);
      case BPF_RB_CONS_POS: return BigInt(this.consPos);
      case BPF_RB_PROD_POS: return BigInt(this.prodPos);
    }
    return 0n;
  }

  /** Host API: take every submitted record, oldest first, freeing their space. */
  consume(): Uint8Array[] {
    const out = this.ready.splice(0);
    for (const r of out) {
      this.used -= this.cost(r.length);
      this.consPos += this.cost(r.length);
    }
    return out;
  }

  lookupAddr(): number {
    return 0;
  }
  updateBytes(): number {
    return -22;
  }
  deleteBytes(): number {
    return -22;
  }
  keys(): Uint8Array[] {
    return [];
  }
}
