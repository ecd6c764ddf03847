// Userspace maps: what a program reaches through helpers (values live in VM memory so both engines
// see them at the same addresses) and what the host reads and writes as bytes.
import { MapType } from '../../uapi/bpf.js';
import { Errno } from '../../uapi/errno.js';
import type { VmMemory } from '../memory.js';

export interface MapSpec {
  name: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
}

// Errno values the helpers return negated, as the kernel does.
export const { EPERM, ENOENT, EAGAIN, E2BIG, EFAULT, EBUSY, EEXIST, EINVAL, ENOSPC, ENOMEM, EOPNOTSUPP } = Errno;

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

export class MapError extends Error {}

export abstract class VmMap {
  /** The map's address as programs see it (lddw of the map): an unreadable 8-byte cell. */
  readonly handle: number;

  constructor(
    readonly spec: MapSpec,
    protected readonly mem: VmMemory,
  ) {
    this.handle = mem.alloc(8);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Address of the value for `key`, or 0. Key bytes come from VM memory. */
  abstract lookupAddr(key: Uint8Array): number;
  /** 0 or -errno. */
  abstract updateBytes(key: Uint8Array, value: Uint8Array, flags: number): number;
  abstract deleteBytes(key: Uint8Array): number;
  abstract keys(): Uint8Array[];

  /** Host API: the value for key, a copy. */
  get(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const a = this.lookupAddr(key);
    return a ? this.mem.read(a, this.spec.valueSize) : undefined;
  }

  /** Host API: set key to value; throws with the errno name on failure. */
  set(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    this.checkKey(key);
    if (value.length !== this.spec.valueSize) throw new MapError(`${this.name}: value is ${value.length} bytes, map takes ${this.spec.valueSize}`);
    const r = this.updateBytes(key, value, flags);
    if (r < 0) throw new MapError(`${this.name}: update failed (errno ${-r})`);
  }

  delete(key: Uint8Array): boolean {
    this.checkKey(key);
    return this.deleteBytes(key) === 0;
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v) yield [k, v];
    }
  }

  protected checkKey(key: Uint8Array): void {
    if (key.length !== this.spec.keySize) throw new MapError(`${this.name}: key is ${key.length} bytes, map takes ${this.spec.keySize}`);
  }
}

/** A map key as a JS Map key. */
export const keyString = (key: Uint8Array): string => String.fromCharCode(...key);
export const keyBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
