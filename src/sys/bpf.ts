// Typed wrappers of bpf(2): each builds the command's member of union bpf_attr (its layout generated
// from the kernel's BTF: src/uapi/bpf-abi.ts), calls the kernel and returns the result or throws a
// SyscallError. Every new fd is tracked in the fd registry; its owner closes it with closeFd().
import { AttachType, BpfCmd, MapType, ProgramType } from '../uapi/bpf.js';
import { bpf_attr, bpf_func_info, bpf_insn, bpf_line_info } from '../uapi/bpf-abi.js';
import type { Layout } from '../uapi/layout.js';
import { Struct, cStringBytes } from './attr.js';
import { Errno, SyscallError, VerifierError, check } from './errors.js';
import { trackFd, type Fd } from './fds.js';
import { native } from './native.js';

export const BPF_OBJ_NAME_LEN = bpf_attr.map_create.fields.map_name.size;

function bpf(cmd: BpfCmd, a: Struct<Layout>, operation: string, hint?: string): number {
  return check(native().bpf(cmd, a.bytes), 'bpf', operation, hint);
}

/** bpf(2) returning -errno instead of throwing (for callers that expect some errnos). */
export function bpfRaw(cmd: BpfCmd, a: Struct<Layout>): number {
  return native().bpf(cmd, a.bytes);
}

/**
 * The member of union bpf_attr a command reads, zeroed, as large as it is in the kernel the layouts
 * were generated from: an older kernel accepts the longer attr as long as what it does not know is
 * zero, and a newer one zero-extends it.
 */
const attr = <L extends Layout>(member: L): Struct<L> => new Struct(member);

/** Keep only the characters the kernel accepts in object names ([A-Za-z0-9_.]), at most 15. */
export function objName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, BPF_OBJ_NAME_LEN - 1);
}

// ---- maps ----

/** Map flags (BPF_F_*) for MAP_CREATE. */
export const MapFlags = {
  NO_PREALLOC: 1 << 0,
  NO_COMMON_LRU: 1 << 1,
  NUMA_NODE: 1 << 2,
  RDONLY: 1 << 3,
  WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5,
  ZERO_SEED: 1 << 6,
  RDONLY_PROG: 1 << 7,
  WRONLY_PROG: 1 << 8,
  CLONE: 1 << 9,
  MMAPABLE: 1 << 10,
  PRESERVE_ELEMS: 1 << 11,
  INNER_MAP: 1 << 12,
} as const;

/** Flags of MAP_UPDATE_ELEM. */
export const UpdateFlags = { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 } as const;

export interface MapCreateAttr {
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  innerMapFd?: Fd;
  numaNode?: number;
  name?: string;
  ifindex?: number;
  btfFd?: Fd;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  mapExtra?: bigint;
}

export function mapCreate(o: MapCreateAttr): Fd {
  const a = attr(bpf_attr.map_create)
    .set('map_type', o.type).set('key_size', o.keySize).set('value_size', o.valueSize).set('max_entries', o.maxEntries)
    .set('map_flags', o.flags ?? 0).set('inner_map_fd', o.innerMapFd ?? 0).set('numa_node', o.numaNode ?? 0)
    .str('map_name', objName(o.name ?? '')).set('map_ifindex', o.ifindex ?? 0).set('btf_fd', o.btfFd ?? 0)
    .set('btf_key_type_id', o.btfKeyTypeId ?? 0).set('btf_value_type_id', o.btfValueTypeId ?? 0)
    .set('btf_vmlinux_value_type_id', o.btfVmlinuxValueTypeId ?? 0).set('map_extra', o.mapExtra ?? 0n);
  const what = `BPF_MAP_CREATE ${MapType[o.type] ?? o.type}${o.name ? ` "${o.name}"` : ''}`;
  return trackFd(bpf(BpfCmd.MAP_CREATE, a, what), `map ${o.name ?? ''}`);
}

/**
 * MAP_*_ELEM calls over fixed key/value buffers, with the attr and the buffers' addresses prepared
 * once: the hot path of map access allocates nothing. Methods return 0 or -errno.
 */
/** Slots of attrs registered with the addon (native bpfPrepare), released when their owner is collected. */
const slotRegistry = new FinalizationRegistry<number>((slot) => native().bpfRelease(slot));

export class MapElemCall {
  private readonly attr = attr(bpf_attr.map_elem);
  // DELETE_ELEM ends at `key`: the kernel insists the value/flags fields after it are zero.
  private readonly deleteAttr = new Struct(bpf_attr.map_elem, bpf_attr.map_elem.fields.key.offset + bpf_attr.map_elem.fields.key.size);
  private readonly flagsAt = bpf_attr.map_elem.fields.flags.offset;
  /** the attrs' slots in the addon, times 256 (bpfSlot takes slot * 256 + cmd) */
  private readonly slot: number;
  private readonly deleteSlot: number;

  constructor(fd: Fd, readonly key: Uint8Array, readonly value: Uint8Array) {
    this.attr.set('map_fd', fd).ptr('key', key).ptr('value', value);
    this.deleteAttr.set('map_fd', fd).ptr('key', key);
    const n = native();
    const a = n.bpfPrepare(this.attr.bytes);
    const d = n.bpfPrepare(this.deleteAttr.bytes);
    if (a < 0 || d < 0) throw new SyscallError('bpf', -(a < 0 ? a : d), 'register a map element attr with the addon');
    slotRegistry.register(this, a);
    slotRegistry.register(this, d);
    this.slot = a * 256;
    this.deleteSlot = d * 256;
  }

  private run(cmd: number, flags: number): number {
    // the flags' low 32 bits: the only ones the kernel defines
    this.attr.view.setUint32(this.flagsAt, flags, true);
    return native().bpfSlot(this.slot + cmd);
  }
  lookup(flags = 0): number {
    return this.run(BpfCmd.MAP_LOOKUP_ELEM, flags);
  }
  update(flags = 0): number {
    return this.run(BpfCmd.MAP_UPDATE_ELEM, flags);
  }
  delete(): number {
    return native().bpfSlot(this.deleteSlot + BpfCmd.MAP_DELETE_ELEM);
  }
  lookupAndDelete(flags = 0): number {
    return this.run(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, flags);
  }
}

function elem(cmd: BpfCmd, fd: Fd, key: Uint8Array | null, value: Uint8Array | null, flags: number): number {
  const a = attr(bpf_attr.map_elem).set('map_fd', fd).ptr('key', key).ptr('value', value).set('flags', flags);
  return native().bpf(cmd, a.bytes);
}

const elemOp = (cmd: BpfCmd, fd: Fd): string => `${BpfCmd[cmd]} (map fd ${fd})`;

/** Lookup into `value`; false if there is no such key. */
export function mapLookupElem(fd: Fd, key: Uint8Array | null, value: Uint8Array, flags = 0): boolean {
  const r = elem(BpfCmd.MAP_LOOKUP_ELEM, fd, key, value, flags);
  if (r === -Errno.ENOENT) return false;
  check(r, 'bpf', elemOp(BpfCmd.MAP_LOOKUP_ELEM, fd));
  return true;
}

export function mapUpdateElem(fd: Fd, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
  check(elem(BpfCmd.MAP_UPDATE_ELEM, fd, key, value, flags), 'bpf', elemOp(BpfCmd.MAP_UPDATE_ELEM, fd));
}

/** Delete; false if there was no such key. */
export function mapDeleteElem(fd: Fd, key: Uint8Array): boolean {
  const r = elem(BpfCmd.MAP_DELETE_ELEM, fd, key, null, 0);
  if (r === -Errno.ENOENT) return false;
  check(r, 'bpf', elemOp(BpfCmd.MAP_DELETE_ELEM, fd));
  return true;
}

/** The key after `key` (the first key for null) into `next`; false at the end. */
export function mapGetNextKey(fd: Fd, key: Uint8Array | null, next: Uint8Array): boolean {
  const r = elem(BpfCmd.MAP_GET_NEXT_KEY, fd, key, next, 0);
  if (r === -Errno.ENOENT) return false;
  check(r, 'bpf', elemOp(BpfCmd.MAP_GET_NEXT_KEY, fd));
  return true;
}

/** Lookup and delete (queue/stack pop: key null); false if empty / no such key. */
export function mapLookupAndDeleteElem(fd: Fd, key: Uint8Array | null, value: Uint8Array, flags = 0): boolean {
  const r = elem(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, flags);
  if (r === -Errno.ENOENT) return false;
  check(r, 'bpf', elemOp(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, fd));
  return true;
}

export function mapFreeze(fd: Fd): void {
  bpf(BpfCmd.MAP_FREEZE, attr(bpf_attr.map_elem).set('map_fd', fd), `BPF_MAP_FREEZE (map fd ${fd})`);
}

export interface BatchArgs {
  /** opaque batch cursor in (null to start), of the map's batch-cursor size (key size is enough) */
  inBatch: Uint8Array | null;
  outBatch: Uint8Array | null;
  keys: Uint8Array;
  values: Uint8Array | null;
  count: number;
  elemFlags?: number;
  flags?: number;
}

/**
 * One MAP_*_BATCH call. Returns how many elements were processed and whether the map is exhausted
 * (ENOENT ends a lookup walk; the count is still valid then). Other errors throw.
 */
export function mapBatch(cmd: BpfCmd, fd: Fd, b: BatchArgs): { count: number; done: boolean } {
  const a = attr(bpf_attr.batch).ptr('in_batch', b.inBatch).ptr('out_batch', b.outBatch).ptr('keys', b.keys).ptr('values', b.values)
    .set('count', b.count).set('map_fd', fd).set('elem_flags', b.elemFlags ?? 0).set('flags', b.flags ?? 0);
  const r = native().bpf(cmd, a.bytes);
  const count = a.get('count');
  if (r === -Errno.ENOENT) return { count, done: true };
  check(r, 'bpf', `${BpfCmd[cmd]} (map fd ${fd})`);
  return { count, done: false };
}

// ---- programs ----

/** prog_flags of PROG_LOAD. */
export const ProgFlags = {
  STRICT_ALIGNMENT: 1 << 0,
  ANY_ALIGNMENT: 1 << 1,
  TEST_RND_HI32: 1 << 2,
  TEST_STATE_FREQ: 1 << 3,
  SLEEPABLE: 1 << 4,
  XDP_HAS_FRAGS: 1 << 5,
} as const;

export interface ProgLoadAttr {
  type: ProgramType;
  /** encoded struct bpf_insn slots */
  insns: Uint8Array;
  license: string;
  name?: string;
  kernVersion?: number;
  flags?: number;
  ifindex?: number;
  expectedAttachType?: AttachType;
  btfFd?: Fd;
  /** struct bpf_func_info records (8 bytes each unless funcInfoRecSize says otherwise) */
  funcInfo?: Uint8Array;
  funcInfoRecSize?: number;
  /** struct bpf_line_info records (16 bytes each unless lineInfoRecSize says otherwise) */
  lineInfo?: Uint8Array;
  lineInfoRecSize?: number;
  attachBtfId?: number;
  /** attach_btf_obj_fd (module BTF) or attach_prog_fd (freplace/extension target) */
  attachBtfObjFd?: Fd;
  attachProgFd?: Fd;
  fdArray?: Int32Array;
  /** 0: no log unless it fails; 1, 2: verifier log levels (4: stats) */
  logLevel?: number;
  /** initial log buffer size (grown on ENOSPC) */
  logSize?: number;
  /** source text of an instruction slot, for the error message */
  lineSource?: (slot: number) => string | undefined;
  /** filled with the verifier log of the successful load when logLevel > 0 */
  logOut?: { log: string };
}

// The kernel accepts up to UINT_MAX >> 2; 256 MiB is more than any real log and still allocatable.
const LOG_MAX = 256 * 1024 * 1024;
const LOG_START = 64 * 1024;
// Kernels before 6.4 refuse (EINVAL) a log buffer smaller than 128 bytes
const LOG_MIN = 128;

function progLoadOnce(o: ProgLoadAttr, level: number, log: Uint8Array | null): { fd: number; trueSize: number } {
  const license = cStringBytes(o.license);
  const a = attr(bpf_attr.prog_load)
    .set('prog_type', o.type).set('insn_cnt', o.insns.length / bpf_insn.sizeof).ptr('insns', o.insns).ptr('license', license)
    .set('log_level', log ? level : 0).set('log_size', log ? log.length : 0).ptr('log_buf', log)
    .set('kern_version', o.kernVersion ?? 0).set('prog_flags', o.flags ?? 0).str('prog_name', objName(o.name ?? ''))
    .set('prog_ifindex', o.ifindex ?? 0).set('expected_attach_type', o.expectedAttachType ?? 0).set('prog_btf_fd', o.btfFd ?? 0);
  if (o.funcInfo?.length) {
    const rec = o.funcInfoRecSize ?? bpf_func_info.sizeof;
    a.set('func_info_rec_size', rec).ptr('func_info', o.funcInfo).set('func_info_cnt', o.funcInfo.length / rec);
  }
  if (o.lineInfo?.length) {
    const rec = o.lineInfoRecSize ?? bpf_line_info.sizeof;
    a.set('line_info_rec_size', rec).ptr('line_info', o.lineInfo).set('line_info_cnt', o.lineInfo.length / rec);
  }
  a.set('attach_btf_id', o.attachBtfId ?? 0).set('attach_btf_obj_fd', o.attachBtfObjFd ?? o.attachProgFd ?? 0);
  if (o.fdArray?.length) a.ptr('fd_array', o.fdArray);
  // The verifier gives up with EAGAIN when a signal is pending (a profiler, a timer): load again, as
  // libbpf does, with the profilers' timer signals held back (a fast sampler interrupts every attempt
  // on a slow machine); Ctrl+C still interrupts.
  let fd = native().bpf(BpfCmd.PROG_LOAD, a.bytes);
  for (let tries = 0; fd === -Errno.EAGAIN && tries < 5; tries++) fd = native().bpf(BpfCmd.PROG_LOAD, a.bytes, true);
  return { fd, trueSize: a.get('log_true_size') };
}

/**
 * BPF_PROG_LOAD. Without a log level it loads quietly; if that fails it loads again with log level
 * 1 (and 2 when level 1 names no instruction) so the error carries the verifier's explanation. The
 * log buffer grows on ENOSPC (to the size the kernel reports, log_true_size, when it does).
 */
export function progLoad(o: ProgLoadAttr, hintFor?: (errno: number) => string | undefined): Fd {
  const operation = `BPF_PROG_LOAD ${ProgramType[o.type] ?? o.type}${o.name ? ` "${o.name}"` : ''}`;
  const level = o.logLevel ?? 0;
  const withLog = (lvl: number): { fd: number; log: string } => {
    let size = Math.max(LOG_MIN, o.logSize ?? LOG_START);
    for (;;) {
      const buf = new Uint8Array(size);
      const { fd, trueSize } = progLoadOnce(o, lvl, buf);
      const text = new TextDecoder().decode(buf.subarray(0, Math.max(0, buf.indexOf(0))));
      if (fd === -Errno.ENOSPC && size < LOG_MAX) {
        size = Math.min(LOG_MAX, Math.max(size * 4, trueSize + 1));
        continue;
      }
      return { fd, log: text };
    }
  };
  let fd: number;
  if (level === 0) {
    fd = progLoadOnce(o, 0, null).fd;
    if (fd >= 0) return trackFd(fd, `prog ${o.name ?? ''}`);
  } else {
    const r = withLog(level);
    if (r.fd >= 0) {
      if (o.logOut) o.logOut.log = r.log;
      return trackFd(r.fd, `prog ${o.name ?? ''}`);
    }
  }
  // Failed: find out why.
  let r = withLog(level || 1);
  if (r.fd >= 0) return trackFd(r.fd, `prog ${o.name ?? ''}`); // passed this time (flaky resource?)
  if (r.log && level < 2 && failingInstructionMissing(r.log)) {
    const r2 = withLog(2);
    if (r2.log) r = r2;
  }
  const errno = -r.fd;
  const hint = hintFor?.(errno);
  if (r.log.trim().length > 0 && (errno === Errno.EACCES || errno === Errno.EINVAL || errno === Errno.E2BIG || errno === Errno.ENOSPC)) {
    throw new VerifierError(errno, operation, r.log, o.lineSource, hint);
  }
  throw new SyscallError('bpf', errno, operation, hint, r.log.trim() ? r.log.trim().split('\n').pop() : undefined);
}

function failingInstructionMissing(log: string): boolean {
  return !/^\d+: \([0-9a-f]{2}\)/m.test(log);
}

/** PROG_TEST_RUN flags. */
export const TestRunFlags = { RUN_ON_CPU: 1, XDP_LIVE_FRAMES: 2 } as const;

export interface TestRunArgs {
  data?: Uint8Array;
  /** room for the output packet (default: input length + 256) */
  dataOutSize?: number;
  ctx?: Uint8Array;
  ctxOutSize?: number;
  repeat?: number;
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

export interface TestRunResult {
  retval: number;
  /** average ns per run */
  duration: number;
  data: Uint8Array;
  ctx: Uint8Array | undefined;
}

export function progTestRun(progFd: Fd, t: TestRunArgs): TestRunResult {
  const dataOut = new Uint8Array(t.dataOutSize ?? (t.data ? t.data.length + 256 : 0));
  const ctxOut = t.ctx || t.ctxOutSize ? new Uint8Array(t.ctxOutSize ?? t.ctx!.length) : null;
  const a = attr(bpf_attr.test)
    .set('prog_fd', progFd).set('data_size_in', t.data?.length ?? 0).set('data_size_out', dataOut.length).ptr('data_in', t.data).ptr('data_out', dataOut)
    .set('repeat', t.repeat ?? 0).set('ctx_size_in', t.ctx?.length ?? 0).set('ctx_size_out', ctxOut?.length ?? 0).ptr('ctx_in', t.ctx).ptr('ctx_out', ctxOut)
    .set('flags', t.flags ?? 0).set('cpu', t.cpu ?? 0).set('batch_size', t.batchSize ?? 0);
  check(native().bpf(BpfCmd.PROG_TEST_RUN, a.bytes), 'bpf', `BPF_PROG_TEST_RUN (prog fd ${progFd})`);
  return {
    retval: a.get('retval'),
    duration: a.get('duration'),
    data: dataOut.slice(0, Math.min(dataOut.length, a.get('data_size_out'))),
    ctx: ctxOut ? ctxOut.slice(0, Math.min(ctxOut.length, a.get('ctx_size_out'))) : undefined,
  };
}

export function progBindMap(progFd: Fd, mapFd: Fd): void {
  bpf(BpfCmd.PROG_BIND_MAP, attr(bpf_attr.prog_bind_map).set('prog_fd', progFd).set('map_fd', mapFd), `BPF_PROG_BIND_MAP (prog fd ${progFd}, map fd ${mapFd})`);
}

/** PROG_ATTACH flags (BPF_F_REPLACE is LINK_UPDATE's too). */
export const AttachFlags = { ALLOW_OVERRIDE: 1, ALLOW_MULTI: 2, REPLACE: 4, BEFORE: 8, AFTER: 16, ID: 32, LINK: 1 << 13 } as const;

export function progAttach(targetFd: Fd, progFd: Fd, type: AttachType, flags = 0, replaceFd?: Fd): void {
  const a = attr(bpf_attr.prog_attach).set('target_fd', targetFd).set('attach_bpf_fd', progFd).set('attach_type', type).set('attach_flags', flags).set('replace_bpf_fd', replaceFd ?? 0);
  bpf(BpfCmd.PROG_ATTACH, a, `BPF_PROG_ATTACH ${AttachType[type] ?? type}`);
}

export function progDetach(targetFd: Fd, progFd: Fd, type: AttachType): void {
  const a = attr(bpf_attr.prog_attach).set('target_fd', targetFd).set('attach_bpf_fd', progFd).set('attach_type', type);
  bpf(BpfCmd.PROG_DETACH, a, `BPF_PROG_DETACH ${AttachType[type] ?? type}`);
}

export interface ProgQueryResult {
  progIds: number[];
  /** flags the programs were attached with (legacy PROG_ATTACH: ALLOW_MULTI...) */
  attachFlags: number;
  /** tcx/netkit: link ids and the attachment revision */
  linkIds: number[];
  revision: bigint;
}

/** BPF_PROG_QUERY: programs attached to a cgroup fd or (tcx) an ifindex for one attach type. */
export function progQuery(target: number, type: AttachType, max = 64): ProgQueryResult {
  const ids = new Uint32Array(max);
  const links = new Uint32Array(max);
  const a = attr(bpf_attr.query).set('target_fd', target).set('attach_type', type).ptr('prog_ids', ids).set('count', max);
  if (type === AttachType.TCX_INGRESS || type === AttachType.TCX_EGRESS) a.ptr('link_ids', links);
  bpf(BpfCmd.PROG_QUERY, a, `BPF_PROG_QUERY ${AttachType[type] ?? type}`);
  const n = Math.min(a.get('count'), max);
  return { progIds: [...ids.subarray(0, n)], attachFlags: a.get('attach_flags'), linkIds: [...links.subarray(0, n)].filter((x) => x !== 0), revision: a.get64('revision') };
}

// ---- pinning ----

export function objPin(fd: Fd, path: string): void {
  const p = cStringBytes(path);
  const r = native().bpf(BpfCmd.OBJ_PIN, attr(bpf_attr.obj).ptr('pathname', p).set('bpf_fd', fd).bytes);
  if (r < 0) {
    const hint = r === -Errno.EEXIST ? 'something is already pinned there: remove it first'
      : r === -Errno.EPERM || r === -Errno.EINVAL || r === -Errno.ENOENT ? 'the path must be inside a bpffs mount (/sys/fs/bpf), in an existing directory' : undefined;
    throw new SyscallError('bpf', -r, `BPF_OBJ_PIN ${path}`, hint);
  }
}

/** OBJ_GET file_flags. */
export const ObjFlags = { RDONLY: MapFlags.RDONLY, WRONLY: MapFlags.WRONLY } as const;

export function objGet(path: string, flags = 0): Fd {
  const p = cStringBytes(path);
  return trackFd(bpf(BpfCmd.OBJ_GET, attr(bpf_attr.obj).ptr('pathname', p).set('file_flags', flags), `BPF_OBJ_GET ${path}`), `pinned ${path}`);
}

// ---- ids and info ----

type IdCmd = BpfCmd.PROG_GET_NEXT_ID | BpfCmd.MAP_GET_NEXT_ID | BpfCmd.LINK_GET_NEXT_ID | BpfCmd.BTF_GET_NEXT_ID;
type FdCmd = BpfCmd.PROG_GET_FD_BY_ID | BpfCmd.MAP_GET_FD_BY_ID | BpfCmd.LINK_GET_FD_BY_ID | BpfCmd.BTF_GET_FD_BY_ID;

/** The id after `start` (0 for the first), or undefined at the end. */
export function getNextId(cmd: IdCmd, start: number): number | undefined {
  const a = attr(bpf_attr.get_id).set('start_id', start);
  const r = native().bpf(cmd, a.bytes);
  if (r === -Errno.ENOENT) return undefined;
  check(r, 'bpf', `${BpfCmd[cmd]} after ${start}`);
  return a.get('next_id');
}

/** All ids of one kind, in order. */
export function allIds(cmd: IdCmd): number[] {
  const out: number[] = [];
  for (let id = getNextId(cmd, 0); id !== undefined; id = getNextId(cmd, id)) out.push(id);
  return out;
}

export function getFdById(cmd: FdCmd, id: number, openFlags = 0): Fd {
  return trackFd(bpf(cmd, attr(bpf_attr.get_id).set('start_id', id).set('open_flags', openFlags), `${BpfCmd[cmd]} ${id}`), `${BpfCmd[cmd]} ${id}`);
}

/** OBJ_GET_INFO_BY_FD into `info`; returns the length the kernel filled. */
export function objGetInfoByFd(fd: Fd, info: Uint8Array): number {
  const a = attr(bpf_attr.info).set('bpf_fd', fd).set('info_len', info.length).ptr('info', info);
  bpf(BpfCmd.OBJ_GET_INFO_BY_FD, a, `BPF_OBJ_GET_INFO_BY_FD (fd ${fd})`);
  return a.get('info_len');
}

// ---- BTF ----

export class BtfLoadError extends SyscallError {
  readonly log: string;
  constructor(errno: number, log: string) {
    const last = log.trim().split('\n').pop();
    super('bpf', errno, 'BPF_BTF_LOAD', undefined, last ? `BTF rejected: ${last}` : undefined);
    this.name = 'BtfLoadError';
    this.log = log;
  }
}

/** BTF_LOAD: the raw BTF blob (header + types + strings). On failure, reloads with a log for the error. */
export function btfLoad(btf: Uint8Array, logLevel = 0): Fd {
  const once = (log: Uint8Array | null, lvl: number): number => {
    const a = attr(bpf_attr.btf_load).ptr('btf', btf).ptr('btf_log_buf', log).set('btf_size', btf.length).set('btf_log_size', log?.length ?? 0).set('btf_log_level', log ? lvl : 0);
    return native().bpf(BpfCmd.BTF_LOAD, a.bytes);
  };
  const fd = once(null, 0);
  if (fd >= 0) return trackFd(fd, 'btf');
  let size = LOG_START;
  for (;;) {
    const log = new Uint8Array(size);
    const r = once(log, logLevel || 1);
    if (r >= 0) return trackFd(r, 'btf');
    if (r === -Errno.ENOSPC && size < LOG_MAX) {
      size *= 4;
      continue;
    }
    throw new BtfLoadError(-r, new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0)))));
  }
}

/** The addresses of byte arrays, for pointer-array fields (kprobe_multi syms). Keep `arrays` alive. */
export function addressesOf(arrays: readonly Uint8Array[]): BigUint64Array {
  const n = native();
  return BigUint64Array.from(arrays.map((a) => n.addressOf(a)));
}

// ---- links ----

export interface LinkCreateAttr {
  progFd: Fd;
  /** target fd (cgroup, perf event, prog for freplace) or ifindex (xdp, tcx, netkit) */
  target: number;
  attachType: AttachType;
  flags?: number;
  /** tp_btf/fentry/freplace target (when not given at load) */
  targetBtfId?: number;
  /** BPF_PERF_EVENT: cookie readable with bpf_get_attach_cookie */
  perfEventCookie?: bigint;
  /** BPF_TRACE_ITER: struct bpf_iter_link_info */
  iterInfo?: Uint8Array;
  /** tracing: cookie */
  tracingCookie?: bigint;
  kprobeMulti?: { syms?: BigUint64Array; addrs?: BigUint64Array; cookies?: BigUint64Array; flags?: number; cnt: number };
  /** tcx/netkit: relative fd or id, and the expected revision (0 = any) */
  tcx?: { relativeFd?: number; expectedRevision?: bigint };
  /** BPF_TRACE_UPROBE_MULTI (6.6+): a file, offsets in it, optional cookies; flags 1 = return probes */
  uprobeMulti?: { path: Uint8Array; offsets: BigUint64Array; cookies?: BigUint64Array; cnt: number; flags?: number; pid?: number };
}

export function linkCreate(o: LinkCreateAttr, hint?: string): Fd {
  const a = attr(bpf_attr.link_create).set('prog_fd', o.progFd).set('target_fd', o.target).set('attach_type', o.attachType).set('flags', o.flags ?? 0);
  if (o.targetBtfId !== undefined) a.set('target_btf_id', o.targetBtfId);
  if (o.perfEventCookie !== undefined) a.set('perf_event.bpf_cookie', o.perfEventCookie);
  if (o.iterInfo) a.ptr('iter_info', o.iterInfo).set('iter_info_len', o.iterInfo.length);
  if (o.tracingCookie !== undefined) a.set('tracing.cookie', o.tracingCookie);
  if (o.kprobeMulti) {
    const k = o.kprobeMulti;
    a.set('kprobe_multi.flags', k.flags ?? 0).set('kprobe_multi.cnt', k.cnt).ptr('kprobe_multi.syms', k.syms ?? null)
      .ptr('kprobe_multi.addrs', k.addrs ?? null).ptr('kprobe_multi.cookies', k.cookies ?? null);
  }
  if (o.tcx) a.set('tcx.relative_fd', o.tcx.relativeFd ?? 0).set('tcx.expected_revision', o.tcx.expectedRevision ?? 0n);
  if (o.uprobeMulti) {
    const u = o.uprobeMulti;
    a.ptr('uprobe_multi.path', u.path).ptr('uprobe_multi.offsets', u.offsets).ptr('uprobe_multi.cookies', u.cookies ?? null)
      .set('uprobe_multi.cnt', u.cnt).set('uprobe_multi.flags', u.flags ?? 0).set('uprobe_multi.pid', u.pid ?? 0);
  }
  const what = `BPF_LINK_CREATE ${AttachType[o.attachType] ?? o.attachType}`;
  return trackFd(bpf(BpfCmd.LINK_CREATE, a, what, hint), `link ${AttachType[o.attachType] ?? o.attachType}`);
}

export function linkUpdate(linkFd: Fd, newProgFd: Fd, oldProgFd?: Fd): void {
  const a = attr(bpf_attr.link_update).set('link_fd', linkFd).set('new_prog_fd', newProgFd).set('flags', oldProgFd ? AttachFlags.REPLACE : 0).set('old_prog_fd', oldProgFd ?? 0);
  bpf(BpfCmd.LINK_UPDATE, a, `BPF_LINK_UPDATE (link fd ${linkFd})`);
}

export function linkDetach(linkFd: Fd): void {
  bpf(BpfCmd.LINK_DETACH, attr(bpf_attr.link_detach).set('link_fd', linkFd), `BPF_LINK_DETACH (link fd ${linkFd})`);
}

/** RAW_TRACEPOINT_OPEN: name for raw_tp, null for tp_btf/fentry/fexit/lsm (target from load time). */
export function rawTracepointOpen(name: string | null, progFd: Fd, hint?: string): Fd {
  const n = name === null ? null : cStringBytes(name);
  const a = attr(bpf_attr.raw_tracepoint).ptr('name', n).set('prog_fd', progFd);
  return trackFd(bpf(BpfCmd.RAW_TRACEPOINT_OPEN, a, `BPF_RAW_TRACEPOINT_OPEN ${name ?? '(BTF target)'}`, hint), `raw_tp ${name ?? ''}`);
}

export function iterCreate(linkFd: Fd): Fd {
  return trackFd(bpf(BpfCmd.ITER_CREATE, attr(bpf_attr.iter_create).set('link_fd', linkFd), `BPF_ITER_CREATE (link fd ${linkFd})`), 'iter');
}

/** BPF_ENABLE_STATS of `type` (enum bpf_stats_type): counted while the returned fd is open. */
export function enableStats(type: number): Fd {
  return trackFd(bpf(BpfCmd.ENABLE_STATS, attr(bpf_attr.enable_stats).set('type', type), 'BPF_ENABLE_STATS'), 'stats');
}
