// A BPF map: owns its fd. Raw operations take Uint8Array keys and values; a typed view decodes them
// through codecs (plain ints, bytes, or compiled from BTF). Access goes through preallocated key and
// value buffers whose addresses are computed once, so get/set/delete allocate nothing themselves.
import { BpfCmd, MapType } from '../uapi/bpf.js';
import {
  MapElemCall, MapFlags, UpdateFlags, getFdById, mapBatch, mapCreate, mapFreeze, mapGetNextKey, objGet, objPin, type MapCreateAttr,
} from '../sys/bpf.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { closeFd, type Fd } from '../sys/fds.js';
import { mapInfo, type MapInfo } from '../sys/info.js';
import { possibleCpuCount } from '../sys/cpus.js';
import { bytes, type Codec } from './codec.js';
import { compileCodec } from '../btf/codec.js';
import type { Btf } from '../btf/btf.js';

export { UpdateFlags };

/** BPF_MAP_CREATE's attributes (MapFlags in `flags`: LPM tries get NO_PREALLOC by default, the kernel requires it) and the codecs of keys and values. */
export interface MapCreateOptions<K = Uint8Array, V = Uint8Array> extends MapCreateAttr {
  key?: Codec<K>;
  value?: Codec<V>;
}

const PERCPU = new Set([MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH, MapType.PERCPU_CGROUP_STORAGE]);
const KEYLESS = new Set([MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER]);

/** The fd and its lifetime, shared by a map and its typed views. */
class Handle {
  constructor(public fd: Fd | -1) {}
  close(): void {
    closeFd(this.fd);
    this.fd = -1;
  }
}

export class BpfMap<K = Uint8Array, V = Uint8Array> {
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;
  /** values per key slot for per-CPU maps (possible CPUs), else 1 */
  readonly cpus: number;
  /** bytes one per-CPU value takes in the syscall buffer (value size rounded up to 8) */
  readonly perCpuStride: number;
  readonly keyCodec: Codec<K>;
  readonly valueCodec: Codec<V>;

  private readonly keyBuf: Uint8Array;
  private readonly keyView: DataView;
  private readonly valBuf: Uint8Array;
  private readonly valView: DataView;
  private readonly nextBuf: Uint8Array;
  /** the value (all CPUs' for per-CPU maps) in valBuf: made once, not a subarray per lookup */
  private readonly valueBytes: Uint8Array;
  private readonly call: MapElemCall;

  private constructor(
    private readonly handle: Handle,
    readonly type: MapType,
    keySize: number,
    valueSize: number,
    readonly maxEntries: number,
    readonly name: string,
    readonly flags: number,
    keyCodec?: Codec<K>,
    valueCodec?: Codec<V>,
  ) {
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.perCpu = PERCPU.has(type);
    this.cpus = this.perCpu ? possibleCpuCount() : 1;
    this.perCpuStride = this.perCpu ? (valueSize + 7) & ~7 : valueSize;
    this.keyCodec = keyCodec ?? (bytes(keySize) as unknown as Codec<K>);
    this.valueCodec = valueCodec ?? (bytes(valueSize) as unknown as Codec<V>);
    if (this.keyCodec.size !== keySize) throw new RangeError(`map ${name}: key codec size ${this.keyCodec.size} != key size ${keySize}`);
    if (this.valueCodec.size !== valueSize) throw new RangeError(`map ${name}: value codec size ${this.valueCodec.size} != value size ${valueSize}`);
    // Keep zero-length buffers non-empty so their addresses are valid.
    this.keyBuf = new Uint8Array(Math.max(keySize, 8));
    this.keyView = new DataView(this.keyBuf.buffer);
    this.nextBuf = new Uint8Array(Math.max(keySize, 8));
    this.valBuf = new Uint8Array(Math.max(this.perCpu ? this.perCpuStride * this.cpus : valueSize, 8));
    this.valView = new DataView(this.valBuf.buffer);
    this.valueBytes = this.valBuf.subarray(0, this.perCpu ? this.perCpuStride * this.cpus : valueSize);
    // Queue/stack/bloom maps take no key: the attr's key pointer must be NULL.
    if (handle.fd === -1) throw new Error(`map ${name}: closed`);
    this.call = new MapElemCall(handle.fd, KEYLESS.has(type) ? new Uint8Array(0) : this.keyBuf, this.valBuf);
  }

  static create<K = Uint8Array, V = Uint8Array>(o: MapCreateOptions<K, V>): BpfMap<K, V> {
    const flags = o.flags ?? (o.type === MapType.LPM_TRIE ? MapFlags.NO_PREALLOC : 0);
    const fd = mapCreate({ ...o, flags });
    try {
      return new BpfMap<K, V>(new Handle(fd), o.type, o.keySize, o.valueSize, o.maxEntries, o.name ?? '', flags, o.key, o.value);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** Wrap an fd tsbpf owns (closed with the map). */
  static fromFd(fd: Fd): BpfMap {
    try {
      const i = mapInfo(fd);
      return new BpfMap(new Handle(fd), i.type, i.keySize, i.valueSize, i.maxEntries, i.name, i.flags);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  static fromId(id: number): BpfMap {
    return BpfMap.fromFd(getFdById(BpfCmd.MAP_GET_FD_BY_ID, id));
  }

  static fromPin(path: string, flags = 0): BpfMap {
    return BpfMap.fromFd(objGet(path, flags));
  }

  /** A view of the same map (same fd) with other codecs, e.g. from BTF. */
  as<K2, V2>(key: Codec<K2>, value: Codec<V2>): BpfMap<K2, V2> {
    return new BpfMap<K2, V2>(this.handle, this.type, this.keySize, this.valueSize, this.maxEntries, this.name, this.flags, key, value);
  }

  /** A view decoding keys and values as BTF types `keyTypeId` / `valueTypeId` of `btf` (0: raw bytes). */
  withBtf<K2 = any, V2 = any>(btf: Btf, keyTypeId: number, valueTypeId: number): BpfMap<K2, V2> {
    const key = keyTypeId ? compileCodec<K2>(btf, keyTypeId) : (bytes(this.keySize) as unknown as Codec<K2>);
    const value = valueTypeId ? compileCodec<V2>(btf, valueTypeId) : (bytes(this.valueSize) as unknown as Codec<V2>);
    return this.as(key, value);
  }

  get fd(): Fd {
    if (this.handle.fd === -1) throw new Error(`map ${this.name}: used after close()`);
    return this.handle.fd;
  }

  get closed(): boolean {
    return this.handle.fd === -1;
  }

  private fail(r: number, what: string): never {
    throw new SyscallError('bpf', -r, `${what} on map "${this.name}" (${MapType[this.type]})`);
  }

  /** A call's result (0 or -errno): an error throws. */
  private check(r: number, what: string): void {
    if (r < 0) this.fail(r, what);
  }

  /** A call on a key's result: true when it found the key, false when there was none (ENOENT); another error throws. */
  private found(r: number, what: string): boolean {
    if (r === -Errno.ENOENT) return false;
    this.check(r, what);
    return true;
  }

  private alive(): void {
    if (this.handle.fd < 0) throw new Error(`map ${this.name}: used after close()`);
  }

  private setRawKey(key: Uint8Array): void {
    if (key.length !== this.keySize) throw new RangeError(`map ${this.name}: key is ${key.length} bytes, expected ${this.keySize}`);
    this.keyBuf.set(key);
  }

  private setKey(key: K): void {
    this.keyCodec.encode(key, this.keyView, 0);
  }

  private noPerCpu(what: string): void {
    if (this.perCpu) throw new TypeError(`map ${this.name} is per-CPU: use ${what}PerCpu()`);
  }

  // ---- typed operations ----

  /** The value at key, or undefined. */
  get(key: K): V | undefined {
    this.noPerCpu('get');
    this.alive();
    this.setKey(key);
    return this.found(this.call.lookup(), 'lookup') ? this.valueCodec.decode(this.valView, 0) : undefined;
  }

  has(key: K): boolean {
    this.alive();
    this.setKey(key);
    return this.found(this.call.lookup(), 'lookup');
  }

  /** Store value at key; flags UpdateFlags.ANY (default), NOEXIST or EXIST. */
  set(key: K, value: V, flags: number = UpdateFlags.ANY): void {
    this.noPerCpu('set');
    this.alive();
    this.setKey(key);
    this.valueCodec.encode(value, this.valView, 0);
    this.check(this.call.update(flags), 'update');
  }

  /** Delete key; false if it was not there. */
  delete(key: K): boolean {
    this.alive();
    this.setKey(key);
    return this.found(this.call.delete(), 'delete');
  }

  /** Per-CPU maps: one value per possible CPU. */
  getPerCpu(key: K): V[] | undefined {
    this.alive();
    this.setKey(key);
    return this.found(this.call.lookup(), 'lookup') ? this.decodePerCpu() : undefined;
  }

  private decodePerCpu(): V[] {
    const out = new Array<V>(this.cpus);
    for (let c = 0; c < this.cpus; c++) out[c] = this.valueCodec.decode(this.valView, c * this.perCpuStride);
    return out;
  }

  /** Per-CPU maps: one value per possible CPU (a single value is written to every CPU). */
  setPerCpu(key: K, values: V[] | V, flags: number = UpdateFlags.ANY): void {
    this.alive();
    this.setKey(key);
    this.valBuf.fill(0);
    for (let c = 0; c < this.cpus; c++) {
      const v = Array.isArray(values) ? values[c] : values;
      if (v === undefined) throw new RangeError(`setPerCpu: ${this.cpus} values needed, got ${(values as V[]).length}`);
      this.valueCodec.encode(v, this.valView, c * this.perCpuStride);
    }
    this.check(this.call.update(flags), 'update');
  }

  /** All keys (a snapshot walk with GET_NEXT_KEY; concurrent deletes may restart a hash walk). */
  *keys(): IterableIterator<K> {
    for (const [k] of this.walk()) yield k;
  }

  /**
   * The walk behind keys() and entries(): each key decoded and as the kernel holds it (the bytes are
   * reused: valid until the next step). Lookups use those bytes, not the decoded key re-encoded,
   * which could differ (a char-array key with bytes after its NUL).
   */
  private *walk(): IterableIterator<[K, Uint8Array]> {
    this.alive();
    let have = false;
    const cur = new Uint8Array(Math.max(this.keySize, 8));
    const next = this.nextBuf;
    const nextView = new DataView(next.buffer);
    for (;;) {
      if (!mapGetNextKey(this.fd, have ? cur.subarray(0, this.keySize) : null, next)) return;
      const k = this.keyCodec.decode(nextView, 0);
      cur.set(next);
      have = true;
      yield [k, cur.subarray(0, this.keySize)];
    }
  }

  /** Look the raw key up into the value buffer; false if it is gone. */
  private lookupRaw(raw: Uint8Array): boolean {
    this.setRawKey(raw);
    return this.found(this.call.lookup(), 'lookup');
  }

  /** [key, value] pairs (values looked up per key; keys deleted meanwhile are skipped). */
  *entries(): IterableIterator<[K, V]> {
    this.noPerCpu('entries');
    for (const [k, raw] of this.walk()) if (this.lookupRaw(raw)) yield [k, this.valueCodec.decode(this.valView, 0)];
  }

  *entriesPerCpu(): IterableIterator<[K, V[]]> {
    for (const [k, raw] of this.walk()) if (this.lookupRaw(raw)) yield [k, this.decodePerCpu()];
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  // ---- raw operations (bytes) ----

  /** Lookup raw bytes; fills and returns `out` (or a new array), undefined if no such key. */
  lookup(key: Uint8Array | null, out?: Uint8Array): Uint8Array | undefined {
    this.alive();
    if (key) this.setRawKey(key);
    if (!this.found(this.call.lookup(), 'lookup')) return undefined;
    if (out) {
      out.set(this.valueBytes);
      return out;
    }
    return this.valueBytes.slice();
  }

  update(key: Uint8Array | null, value: Uint8Array, flags: number = UpdateFlags.ANY): void {
    this.alive();
    if (key) this.setRawKey(key);
    this.valBuf.set(value);
    this.check(this.call.update(flags), 'update');
  }

  deleteRaw(key: Uint8Array): boolean {
    this.alive();
    this.setRawKey(key);
    return this.found(this.call.delete(), 'delete');
  }

  /** The key after `key` (first for null), or undefined at the end. */
  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    const next = new Uint8Array(Math.max(this.keySize, 8));
    return mapGetNextKey(this.fd, key, next) ? next.slice(0, this.keySize) : undefined;
  }

  // ---- queue / stack / bloom filter ----

  push(value: V, flags: number = UpdateFlags.ANY): void {
    this.alive();
    this.valueCodec.encode(value, this.valView, 0);
    this.check(this.call.update(flags), 'push');
  }

  /** Remove and return the head (queue) or top (stack); undefined when empty. */
  pop(): V | undefined {
    this.alive();
    return this.found(this.call.lookupAndDelete(), 'pop') ? this.valueCodec.decode(this.valView, 0) : undefined;
  }

  peek(): V | undefined {
    this.alive();
    return this.found(this.call.lookup(), 'peek') ? this.valueCodec.decode(this.valView, 0) : undefined;
  }

  /** Hash maps: lookup and delete in one step. */
  take(key: K): V | undefined {
    this.alive();
    this.setKey(key);
    return this.found(this.call.lookupAndDelete(), 'lookup and delete') ? this.valueCodec.decode(this.valView, 0) : undefined;
  }

  // ---- batches ----

  /**
   * All entries with MAP_LOOKUP_BATCH, `batchSize` per call; falls back to a per-key walk where the
   * kernel has no batch support for this map type. Per-CPU maps yield V[] values via entriesPerCpu.
   */
  *entriesBatch(batchSize = 256): IterableIterator<[K, V]> {
    this.noPerCpu('entries');
    for (const [k, vb] of this.rawBatches(batchSize, false)) yield [k, this.valueCodec.decode(vb, 0)];
  }

  /** Read and delete everything (MAP_LOOKUP_AND_DELETE_BATCH; per-key fallback). */
  *drainBatch(batchSize = 256): IterableIterator<[K, V]> {
    this.noPerCpu('drain');
    for (const [k, vb] of this.rawBatches(batchSize, true)) yield [k, this.valueCodec.decode(vb, 0)];
  }

  private *rawBatches(batchSize: number, andDelete: boolean): IterableIterator<[K, DataView]> {
    this.alive();
    const ks = this.keySize;
    const vs = this.perCpu ? this.perCpuStride * this.cpus : this.valueSize;
    let count = batchSize;
    let keys = new Uint8Array(ks * count);
    let vals = new Uint8Array(vs * count);
    const cursorA = new Uint8Array(Math.max(ks, 8));
    const cursorB = new Uint8Array(Math.max(ks, 8));
    let first = true;
    const cmd = andDelete ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH;
    for (;;) {
      let res: { count: number; done: boolean };
      try {
        res = mapBatch(cmd, this.fd, { inBatch: first ? null : cursorA, outBatch: cursorB, keys, values: vals, count });
      } catch (e) {
        if (e instanceof SyscallError && e.errno === Errno.ENOSPC) {
          // A hash bucket holds more than `count` elements: retry with more room.
          count *= 2;
          keys = new Uint8Array(ks * count);
          vals = new Uint8Array(vs * count);
          continue;
        }
        if (first && e instanceof SyscallError && (e.errno === Errno.EINVAL || e.errno === Errno.ENOTSUPP || e.errno === Errno.EOPNOTSUPP)) {
          yield* this.rawWalk(andDelete);
          return;
        }
        throw e;
      }
      const kv = new DataView(keys.buffer);
      for (let i = 0; i < res.count; i++) {
        yield [this.keyCodec.decode(kv, i * ks), new DataView(vals.buffer, i * vs, vs)];
      }
      if (res.done) return;
      cursorA.set(cursorB);
      first = false;
    }
  }

  private *rawWalk(andDelete: boolean): IterableIterator<[K, DataView]> {
    const vs = this.perCpu ? this.perCpuStride * this.cpus : this.valueSize;
    for (const k of [...this.keys()]) {
      this.setKey(k);
      if (!this.found(this.call.lookup(), 'lookup')) continue;
      if (andDelete) this.call.delete();
      yield [k, new DataView(this.valBuf.slice(0, vs).buffer)];
    }
  }

  /** Update many entries (MAP_UPDATE_BATCH; per-key fallback). Returns how many were written. */
  setBatch(entries: ReadonlyArray<readonly [K, V]>, flags: number = UpdateFlags.ANY): number {
    this.noPerCpu('set');
    this.alive();
    const n = entries.length;
    if (n === 0) return 0;
    const keys = new Uint8Array(this.keySize * n);
    const vals = new Uint8Array(this.valueSize * n);
    const kv = new DataView(keys.buffer);
    const vv = new DataView(vals.buffer);
    entries.forEach(([k, v], i) => {
      this.keyCodec.encode(k, kv, i * this.keySize);
      this.valueCodec.encode(v, vv, i * this.valueSize);
    });
    try {
      return mapBatch(BpfCmd.MAP_UPDATE_BATCH, this.fd, { inBatch: null, outBatch: null, keys, values: vals, count: n, elemFlags: flags }).count;
    } catch (e) {
      if (!(e instanceof SyscallError && (e.errno === Errno.EINVAL || e.errno === Errno.ENOTSUPP || e.errno === Errno.EOPNOTSUPP))) throw e;
    }
    for (const [k, v] of entries) this.set(k, v, flags);
    return n;
  }

  /**
   * One MAP_LOOKUP_BATCH call into caller buffers, as libbpf's bpf_map_lookup_batch: up to
   * keys.length / keySize entries, keys packed in `keys`, values in `values` (value size apart, per
   * CPU values rounded up to 8). `inCursor` is null for the first call, then the previous call's
   * `outCursor` (two cursor buffers of keySize bytes, swapped between calls). `done`: the map has
   * no more entries (the count is valid still). The raw, allocation-free form of entriesBatch().
   */
  lookupBatch(keys: Uint8Array, values: Uint8Array, inCursor: Uint8Array | null, outCursor: Uint8Array): { count: number; done: boolean } {
    this.alive();
    const count = Math.floor(keys.length / this.keySize);
    return mapBatch(BpfCmd.MAP_LOOKUP_BATCH, this.fd, { inBatch: inCursor, outBatch: outCursor, keys, values, count });
  }

  /**
   * One MAP_UPDATE_BATCH call from caller buffers (`count` entries, keys and values packed as
   * lookupBatch() returns them), as libbpf's bpf_map_update_batch. Returns how many were written.
   */
  updateBatch(keys: Uint8Array, values: Uint8Array, count = Math.floor(keys.length / this.keySize), flags: number = UpdateFlags.ANY): number {
    this.alive();
    return mapBatch(BpfCmd.MAP_UPDATE_BATCH, this.fd, { inBatch: null, outBatch: null, keys, values, count, elemFlags: flags }).count;
  }

  /** Delete many keys (MAP_DELETE_BATCH; per-key fallback). Returns how many were deleted. */
  deleteBatch(keys: readonly K[]): number {
    this.alive();
    const n = keys.length;
    if (n === 0) return 0;
    const kb = new Uint8Array(this.keySize * n);
    const kv = new DataView(kb.buffer);
    keys.forEach((k, i) => this.keyCodec.encode(k, kv, i * this.keySize));
    try {
      return mapBatch(BpfCmd.MAP_DELETE_BATCH, this.fd, { inBatch: null, outBatch: null, keys: kb, values: null, count: n }).count;
    } catch (e) {
      if (!(e instanceof SyscallError && (e.errno === Errno.EINVAL || e.errno === Errno.ENOTSUPP || e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOENT))) throw e;
    }
    let deleted = 0;
    for (const k of keys) if (this.delete(k)) deleted++;
    return deleted;
  }

  // ---- the map itself ----

  /** Make the map read-only for user space (programs can still write). */
  freeze(): void {
    mapFreeze(this.fd);
  }

  pin(path: string): void {
    objPin(this.fd, path);
  }

  info(): MapInfo {
    return mapInfo(this.fd);
  }

  get id(): number {
    return this.info().id;
  }

  /** Close the fd (shared with views made by as()). */
  close(): void {
    this.handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
