// Counts made in user space from events (connects, execs by container), kept in a BPF hash map
// pinned beside the program's other pins: after a crash or an upgrade the next agent reads them back
// and goes on counting instead of starting from zero. The map is written once per drained batch
// (a syscall per series touched, not per event): a crash loses at most the batch in hand.
import { existsSync } from 'node:fs';
import { BpfMap } from '../maps/map.js';
import { MapType } from '../uapi/bpf.js';

const KEY_SIZE = 256;
const enc = new TextEncoder();
const dec = new TextDecoder();

function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(KEY_SIZE);
  // a longer key is cut: two series that differ only past 256 bytes count together
  enc.encodeInto(key, out);
  return out;
}

function keyString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return dec.decode(end < 0 ? b : b.subarray(0, end));
}

export class Ledger {
  private readonly counts = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly map: BpfMap;
  private readonly value = new Uint8Array(8);
  private readonly view = new DataView(this.value.buffer);

  /** `pin`: where the map lives in bpffs (read back when it is there); undefined: not kept. */
  constructor(
    pin: string | undefined,
    readonly maxEntries: number,
  ) {
    if (pin && existsSync(pin)) {
      this.map = BpfMap.fromPin(pin);
      for (let k = this.map.nextKey(null); k; k = this.map.nextKey(k)) {
        const v = this.map.lookup(k);
        if (v) this.counts.set(keyString(k), Number(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true)));
      }
    } else {
      this.map = BpfMap.create({ type: MapType.HASH, keySize: KEY_SIZE, valueSize: 8, maxEntries, name: 'tsbpf_ledger' });
      if (pin) this.map.pin(pin);
    }
  }

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
    this.dirty.add(key);
  }

  /** Writes the series changed since the last flush to the map. */
  flush(): void {
    for (const k of this.dirty) {
      this.view.setBigUint64(0, BigInt(this.counts.get(k) ?? 0), true);
      try {
        this.map.update(keyBytes(k), this.value);
      } catch {
        // full (E2BIG): the count stays in memory, only a restart would lose it
      }
    }
    this.dirty.clear();
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }

  get size(): number {
    return this.counts.size;
  }

  get kernelMap(): BpfMap {
    return this.map;
  }

  close(): void {
    this.flush();
    this.map.close();
  }
}
