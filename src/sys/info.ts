// What the kernel says about its BPF objects: OBJ_GET_INFO_BY_FD decoded (struct bpf_prog_info,
// bpf_map_info, bpf_link_info, bpf_btf_info), and listings by id for `tsbpf prog|map|link list`.
import { AttachType, BpfCmd, LinkType, MapType, ProgramType } from '../uapi/bpf.js';
import { bpf_btf_info, bpf_link_info, bpf_map_info, bpf_prog_info } from '../uapi/bpf-abi.js';
import { Struct, cString } from './attr.js';
import { allIds, getFdById, objGetInfoByFd } from './bpf.js';
import { Errno, SyscallError } from './errors.js';
import { closeFd, type Fd } from './fds.js';
import { native } from './native.js';

export interface ProgInfo {
  id: number;
  type: ProgramType;
  typeName: string;
  name: string;
  /** the program's tag (sha of its instructions), hex */
  tag: string;
  jitedProgLen: number;
  xlatedProgLen: number;
  /** ns since boot (CLOCK_BOOTTIME) */
  loadTime: bigint;
  /** load time as a Date (derived from loadTime and the boot clock) */
  loadedAt: Date;
  createdByUid: number;
  mapIds: number[];
  ifindex: number;
  gplCompatible: boolean;
  btfId: number;
  /** run time and count: non-zero only while stats are enabled (enableStats / kernel.bpf_stats_enabled) */
  runTimeNs: bigint;
  runCnt: bigint;
  recursionMisses: bigint;
  verifiedInsns: number;
  attachBtfObjId: number;
  attachBtfId: number;
  /** translated instructions, when asked for */
  xlated?: Uint8Array;
}

export interface MapInfo {
  id: number;
  type: MapType;
  typeName: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  ifindex: number;
  btfVmlinuxValueTypeId: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
}

export interface LinkInfo {
  id: number;
  type: LinkType;
  typeName: string;
  progId: number;
  /** raw_tracepoint: tracepoint name */
  tpName?: string;
  /** tracing / cgroup / netns / tcx: the attach type */
  attachType?: AttachType;
  targetObjId?: number;
  targetBtfId?: number;
  cgroupId?: bigint;
  ifindex?: number;
}

export interface BtfInfo {
  id: number;
  size: number;
  name: string;
  kernelBtf: boolean;
}

const CLOCK_REALTIME = 0;
const CLOCK_BOOTTIME = 7;

/** Convert a CLOCK_BOOTTIME ns stamp to a Date. */
export function bootTimeToDate(ns: bigint): Date {
  const n = native();
  const real = n.clockGettime(CLOCK_REALTIME);
  const boot = n.clockGettime(CLOCK_BOOTTIME);
  if (typeof real !== 'bigint' || typeof boot !== 'bigint') return new Date(NaN);
  return new Date(Number((real - boot + ns) / 1000000n));
}

/** BPF_OBJ_GET_INFO_BY_FD into `s` (its pointer fields set already, if any). */
function getInfo<S extends { bytes: Uint8Array }>(fd: Fd, s: S): S {
  objGetInfoByFd(fd, s.bytes);
  return s;
}

/** What each bpf_*_info reported here opens with: the id, the type and the type's name. */
function idAndType<T extends number>(s: { get(name: 'id' | 'type'): number }, names: Record<number, string>): { id: number; type: T; typeName: string } {
  const type = s.get('type') as T;
  return { id: s.get('id'), type, typeName: names[type] ?? String(type) };
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export function progInfo(fd: Fd, opts: { xlated?: boolean } = {}): ProgInfo {
  let s = getInfo(fd, new Struct(bpf_prog_info));
  const nrMaps = s.get('nr_map_ids');
  const xlatedLen = s.get('xlated_prog_len');
  if (nrMaps > 0 || (opts.xlated && xlatedLen > 0)) {
    // Second call with room for the arrays (only those fields set: the others must stay zero).
    const ids = new Uint32Array(nrMaps);
    const xl = opts.xlated ? new Uint8Array(xlatedLen) : null;
    s = new Struct(bpf_prog_info).set('nr_map_ids', nrMaps).ptr('map_ids', ids);
    if (xl) s.set('xlated_prog_len', xl.length).ptr('xlated_prog_insns', xl);
    getInfo(fd, s);
    const info = decodeProg(s);
    info.mapIds = [...ids.subarray(0, Math.min(nrMaps, s.get('nr_map_ids')))];
    if (xl) info.xlated = xl;
    return info;
  }
  return decodeProg(s);
}

function decodeProg(s: Struct<typeof bpf_prog_info>): ProgInfo {
  const loadTime = s.get64('load_time');
  return {
    ...idAndType<ProgramType>(s, ProgramType),
    name: s.getStr('name'),
    tag: hex(s.bytesOf('tag')),
    jitedProgLen: s.get('jited_prog_len'),
    xlatedProgLen: s.get('xlated_prog_len'),
    loadTime,
    loadedAt: bootTimeToDate(loadTime),
    createdByUid: s.get('created_by_uid'),
    mapIds: [],
    ifindex: s.get('ifindex'),
    gplCompatible: s.get('gpl_compatible') === 1,
    btfId: s.get('btf_id'),
    runTimeNs: s.get64('run_time_ns'),
    runCnt: s.get64('run_cnt'),
    recursionMisses: s.get64('recursion_misses'),
    verifiedInsns: s.get('verified_insns'),
    attachBtfObjId: s.get('attach_btf_obj_id'),
    attachBtfId: s.get('attach_btf_id'),
  };
}

export function mapInfo(fd: Fd): MapInfo {
  const s = getInfo(fd, new Struct(bpf_map_info));
  return {
    ...idAndType<MapType>(s, MapType),
    keySize: s.get('key_size'),
    valueSize: s.get('value_size'),
    maxEntries: s.get('max_entries'),
    flags: s.get('map_flags'),
    name: s.getStr('name'),
    ifindex: s.get('ifindex'),
    btfVmlinuxValueTypeId: s.get('btf_vmlinux_value_type_id'),
    btfId: s.get('btf_id'),
    btfKeyTypeId: s.get('btf_key_type_id'),
    btfValueTypeId: s.get('btf_value_type_id'),
    mapExtra: s.get64('map_extra'),
  };
}

export function linkInfo(fd: Fd): LinkInfo {
  const s = getInfo(fd, new Struct(bpf_link_info));
  const out: LinkInfo = { ...idAndType<LinkType>(s, LinkType), progId: s.get('prog_id') };
  switch (out.type) {
    case LinkType.RAW_TRACEPOINT: {
      const len = s.get('raw_tracepoint.tp_name_len');
      if (len > 0) {
        const name = new Uint8Array(len);
        getInfo(fd, new Struct(bpf_link_info).ptr('raw_tracepoint.tp_name', name).set('raw_tracepoint.tp_name_len', len));
        out.tpName = cString(name);
      }
      break;
    }
    case LinkType.TRACING:
      out.attachType = s.get('tracing.attach_type');
      out.targetObjId = s.get('tracing.target_obj_id');
      out.targetBtfId = s.get('tracing.target_btf_id');
      break;
    case LinkType.CGROUP:
      out.cgroupId = s.get64('cgroup.cgroup_id');
      out.attachType = s.get('cgroup.attach_type');
      break;
    case LinkType.NETNS:
      out.attachType = s.get('netns.attach_type');
      break;
    case LinkType.XDP:
      out.ifindex = s.get('xdp.ifindex');
      break;
    case LinkType.TCX:
    case LinkType.NETKIT: {
      // the tcx and netkit members of the union are the same { ifindex, attach_type }
      const u = out.type === LinkType.TCX ? 'tcx' : 'netkit';
      out.ifindex = s.get(`${u}.ifindex`);
      out.attachType = s.get(`${u}.attach_type`);
      break;
    }
    default:
      break;
  }
  return out;
}

export function btfInfo(fd: Fd): BtfInfo {
  const name = new Uint8Array(256);
  const s = getInfo(fd, new Struct(bpf_btf_info).ptr('name', name).set('name_len', name.length));
  return { id: s.get('id'), size: s.get('btf_size'), name: cString(name), kernelBtf: s.get('kernel_btf') !== 0 };
}

type GetFdById = BpfCmd.PROG_GET_FD_BY_ID | BpfCmd.MAP_GET_FD_BY_ID | BpfCmd.LINK_GET_FD_BY_ID | BpfCmd.BTF_GET_FD_BY_ID;

/** decode(fd) of the object of kernel id `id`, or undefined when it is gone (objects come and go). */
function infoById<T>(byId: GetFdById, id: number, decode: (fd: Fd) => T): T | undefined {
  let fd: Fd;
  try {
    fd = getFdById(byId, id);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.ENOENT) return undefined;
    throw e;
  }
  try {
    return decode(fd);
  } finally {
    closeFd(fd);
  }
}

/** Info about every object of one kind (objects that vanish while listing are skipped). */
function list<T>(next: BpfCmd.PROG_GET_NEXT_ID | BpfCmd.MAP_GET_NEXT_ID | BpfCmd.LINK_GET_NEXT_ID | BpfCmd.BTF_GET_NEXT_ID,
  byId: GetFdById,
  decode: (fd: Fd) => T): T[] {
  const out: T[] = [];
  for (const id of allIds(next)) {
    const info = infoById(byId, id, decode);
    if (info !== undefined) out.push(info);
  }
  return out;
}

/** Info about the program with kernel id `id`, or undefined when no such program is loaded (any more). */
export function progInfoById(id: number): ProgInfo | undefined {
  return infoById(BpfCmd.PROG_GET_FD_BY_ID, id, (fd) => progInfo(fd));
}

export const listPrograms = (): ProgInfo[] => list(BpfCmd.PROG_GET_NEXT_ID, BpfCmd.PROG_GET_FD_BY_ID, (fd) => progInfo(fd));
export const listMaps = (): MapInfo[] => list(BpfCmd.MAP_GET_NEXT_ID, BpfCmd.MAP_GET_FD_BY_ID, mapInfo);
export const listLinks = (): LinkInfo[] => list(BpfCmd.LINK_GET_NEXT_ID, BpfCmd.LINK_GET_FD_BY_ID, linkInfo);
export const listBtf = (): BtfInfo[] => list(BpfCmd.BTF_GET_NEXT_ID, BpfCmd.BTF_GET_FD_BY_ID, btfInfo);

/** Ids currently loaded, without opening anything (for leak checks). */
export const programIds = (): number[] => allIds(BpfCmd.PROG_GET_NEXT_ID);
export const mapIds = (): number[] => allIds(BpfCmd.MAP_GET_NEXT_ID);
export const linkIds = (): number[] => allIds(BpfCmd.LINK_GET_NEXT_ID);
export const btfIds = (): number[] => allIds(BpfCmd.BTF_GET_NEXT_ID);
