// BPF_MAP_TYPE_PROG_ARRAY: slots holding programs for bpf_tail_call. The host fills slots with
// program names; programs cannot read or write it directly.
import type { VmMemory } from '../memory.js';
import { E2BIG, ENOENT, MapError, VmMap, type MapSpec } from './map.js';

export class ProgArrayMap extends VmMap {
  private readonly slots: (string | undefined)[];

  constructor(spec: MapSpec, mem: VmMemory) {
    super(spec, mem);
    if (spec.keySize !== 4 || spec.valueSize !== 4) throw new MapError(`${spec.name}: prog array needs 4-byte keys and values`);
    this.slots = new Array(spec.maxEntries).fill(undefined);
  }

  setProgram(index: number, name: string | undefined): void {
    if (index < 0 || index >= this.spec.maxEntries) throw new MapError(`${this.name}: index ${index} out of range`);
    this.slots[index] = name;
  }

  program(index: number): string | undefined {
    return index < this.spec.maxEntries ? this.slots[index] : undefined;
  }

  lookupAddr(): number {
    return 0;
  }
  updateBytes(key: Uint8Array): number {
    const i = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    return i >= this.spec.maxEntries ? -E2BIG : -22;
  }
  deleteBytes(key: Uint8Array): number {
    const i = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    if (i >= this.spec.maxEntries || this.slots[i] === undefined) return -ENOENT;
    this.slots[i] = undefined;
    return 0;
  }
  keys(): Uint8Array[] {
    return this.slots.flatMap((s, i) => (s === undefined ? [] : [new Uint8Array(new Uint32Array([i]).buffer)]));
  }
}
