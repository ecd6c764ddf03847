// BPF_MAP_TYPE_HASH / LRU_HASH (and their per-CPU forms with one CPU). Each value is its own block
// and region in VM memory, released on delete. LRU evicts the least recently used entry when full.
import type { Region, VmMemory } from '../memory.js';
import { BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, VmMap, keyBytes, keyString, type MapSpec } from './map.js';

interface Entry {
  addr: number;
  region: Region;
}

export class HashMap extends VmMap {
  private entries_ = new Map<string, Entry>();

  constructor(spec: MapSpec, mem: VmMemory, readonly lru = false) {
    super(spec, mem);
  }

  get size(): number {
    return this.entries_.size;
  }

  lookupAddr(key: Uint8Array): number {
    const k = keyString(key);
    const e = this.entries_.get(k);
    if (!e) return 0;
    if (this.lru) {
      this.entries_.delete(k);
      this.entries_.set(k, e);
    }
    return e.addr;
  }

  updateBytes(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags > 2) return -EINVAL;
    const k = keyString(key);
    const e = this.entries_.get(k);
    if (e) {
      if (flags === BPF_NOEXIST) return -EEXIST;
      this.mem.write(e.addr, value);
      if (this.lru) {
        this.entries_.delete(k);
        this.entries_.set(k, e);
      }
      return 0;
    }
    if (flags === BPF_EXIST) return -ENOENT;
    if (this.entries_.size >= this.spec.maxEntries) {
      if (!this.lru) return -E2BIG;
      const oldest = this.entries_.keys().next().value as string;
      this.deleteBytes(keyBytes(oldest));
    }
    const addr = this.mem.alloc(this.spec.valueSize);
    this.mem.write(addr, value);
    const region = this.mem.addRegion({ start: addr, end: addr + this.spec.valueSize, kind: 'map_value', writable: true, label: `map '${this.name}' value`, owner: this });
    this.entries_.set(k, { addr, region });
    return 0;
  }

  deleteBytes(key: Uint8Array): number {
    const k = keyString(key);
    const e = this.entries_.get(k);
    if (!e) return -ENOENT;
    this.entries_.delete(k);
    this.mem.retire(e.region, e.addr);
    return 0;
  }

  keys(): Uint8Array[] {
    return [...this.entries_.keys()].map(keyBytes);
  }
}
