// BPF_MAP_TYPE_ARRAY (and PERCPU_ARRAY with one CPU): preallocated, zero-filled values that are never
// deleted; also backs global data (.data/.bss/.rodata), reached by BPF_PSEUDO_MAP_VALUE.
import type { VmMemory, Region } from '../memory.js';
import { BPF_NOEXIST, E2BIG, EEXIST, EINVAL, EPERM, MapError, VmMap, type MapSpec } from './map.js';

export class ArrayMap extends VmMap {
  readonly base: number;
  readonly stride: number;
  readonly region: Region;

  constructor(spec: MapSpec, mem: VmMemory, readonly readonlyData = false) {
    super(spec, mem);
    if (spec.keySize !== 4) throw new MapError(`${spec.name}: array maps take 4-byte keys, not ${spec.keySize}`);
    if (spec.maxEntries <= 0 || spec.valueSize <= 0) throw new MapError(`${spec.name}: array needs max_entries and value_size > 0`);
    this.stride = (spec.valueSize + 7) & ~7;
    this.base = mem.alloc(this.stride * spec.maxEntries);
    this.region = mem.addRegion({
      start: this.base,
      end: this.base + this.stride * spec.maxEntries,
      kind: 'map_value',
      writable: !readonlyData,
      stride: this.stride,
      elemSize: spec.valueSize,
      label: `map '${spec.name}' value`,
      owner: this,
    });
  }

  private index(key: Uint8Array): number {
    return new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  }

  lookupAddr(key: Uint8Array): number {
    const i = this.index(key);
    return i < this.spec.maxEntries ? this.base + i * this.stride : 0;
  }

  updateBytes(key: Uint8Array, value: Uint8Array, flags: number): number {
    // A frozen map (.rodata) stays as loaded, as in the kernel: the verifier read its values.
    if (this.readonlyData) return -EPERM;
    if (flags > 2) return -EINVAL;
    const i = this.index(key);
    if (i >= this.spec.maxEntries) return -E2BIG;
    if (flags === BPF_NOEXIST) return -EEXIST;
    this.mem.write(this.base + i * this.stride, value);
    return 0;
  }

  /** `size` bytes at `off` of a frozen single-element map: constants the verifier may use, as the
   *  kernel's bpf_map_direct_read does for read-only maps. Undefined for any other map. */
  constValue(off: number, size: number): bigint | undefined {
    if (!this.readonlyData || this.spec.maxEntries !== 1 || off < 0 || off + size > this.spec.valueSize) return undefined;
    return this.mem.load(this.base + off, size);
  }

  deleteBytes(): number {
    return -EINVAL;
  }

  keys(): Uint8Array[] {
    return Array.from({ length: this.spec.maxEntries }, (_, i) => new Uint8Array(new Uint32Array([i]).buffer));
  }
}
