// BPF_MAP_TYPE_LPM_TRIE: keys are { u32 prefixlen; u8 data[] } (data in network order); lookup returns
// the entry with the longest prefix matching the key's data. A flat list is enough for a userspace VM.
import type { Region, VmMemory } from '../memory.js';
import { BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, MapError, VmMap, type MapSpec } from './map.js';

interface Entry {
  prefixLen: number;
  data: Uint8Array;
  addr: number;
  region: Region;
}

const prefixOf = (key: Uint8Array): number => new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);

function matches(prefix: Uint8Array, len: number, data: Uint8Array): boolean {
  const full = len >> 3;
  for (let i = 0; i < full; i++) if (prefix[i] !== data[i]) return false;
  const rest = len & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (prefix[full]! & mask) === (data[full]! & mask);
}

export class LpmTrieMap extends VmMap {
  private list: Entry[] = [];
  private readonly maxPrefix: number;

  constructor(spec: MapSpec, mem: VmMemory) {
    super(spec, mem);
    if (spec.keySize < 5) throw new MapError(`${spec.name}: LPM trie keys are a u32 prefix length plus data`);
    this.maxPrefix = (spec.keySize - 4) * 8;
  }

  private find(key: Uint8Array): Entry | undefined {
    const len = prefixOf(key);
    const data = key.subarray(4);
    return this.list.find((e) => e.prefixLen === len && matches(e.data, len, data));
  }

  lookupAddr(key: Uint8Array): number {
    const len = Math.min(prefixOf(key), this.maxPrefix);
    const data = key.subarray(4);
    let best: Entry | undefined;
    for (const e of this.list) {
      if (e.prefixLen <= len && (!best || e.prefixLen > best.prefixLen) && matches(e.data, e.prefixLen, data)) best = e;
    }
    return best?.addr ?? 0;
  }

  updateBytes(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags > 2) return -EINVAL;
    const len = prefixOf(key);
    if (len > this.maxPrefix) return -EINVAL;
    const old = this.find(key);
    if (old) {
      if (flags === BPF_NOEXIST) return -EEXIST;
      this.mem.write(old.addr, value);
      return 0;
    }
    if (flags === BPF_EXIST) return -ENOENT;
    if (this.list.length >= this.spec.maxEntries) return -E2BIG;
    const addr = this.mem.alloc(this.spec.valueSize);
    this.mem.write(addr, value);
    const region = this.mem.addRegion({ start: addr, end: addr + this.spec.valueSize, kind: 'map_value', writable: true, label: `map '${this.name}' value`, owner: this });
    this.list.push({ prefixLen: len, data: key.slice(4), addr, region });
    return 0;
  }

  deleteBytes(key: Uint8Array): number {
    const e = this.find(key);
    if (!e) return -ENOENT;
    this.list.splice(this.list.indexOf(e), 1);
    this.mem.retire(e.region, e.addr);
    return 0;
  }

  keys(): Uint8Array[] {
    return this.list.map((e) => {
      const k = new Uint8Array(this.spec.keySize);
      new DataView(k.buffer).setUint32(0, e.prefixLen, true);
      k.set(e.data, 4);
      return k;
    });
  }

}
