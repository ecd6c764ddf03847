// What the kernel says about its BPF objects: OBJ_GET_INFO_BY_FD decoded (struct bpf_prog_info,
// bpf_map_info, bpf_link_info, bpf_btf_info), and listings by id for `tsbpf prog|map|link list`.
import { AttachType, BpfCmd, LinkType, MapType, ProgramType } from '../uapi/bpf.js';
import { Struct } from './attr.js';
import { allIds, getFdById, objGetInfoByFd } from './bpf.js';
import { Errno, SyscallError } from './errors.js';
import { closeFd } from './fds.js';
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

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export function progInfo(fd: number, opts: { xlated?: boolean } = {}): ProgInfo {
  let s = new Struct(232);
  objGetInfoByFd(fd, s.bytes);
  const nrMaps = s.getU32(52);
  const xlatedLen = s.getU32(20);
  if (nrMaps > 0 || (opts.xlated && xlatedLen > 0)) {
    // Second call with room for the arrays (only those fields set: the others must stay zero).
    const ids = new Uint32Array(nrMaps);
    const xl = opts.xlated ? new Uint8Array(xlatedLen) : null;
    s = new Struct(232).u32(52, nrMaps).ptr(56, ids);
    if (xl) s.u32(20, xl.length).ptr(32, xl);
    objGetInfoByFd(fd, s.bytes);
    const info = decodeProg(s);
    info.mapIds = [...ids.subarray(0, Math.min(nrMaps, s.getU32(52)))];
    if (xl) info.xlated = xl;
    return info;
  }
  return decodeProg(s);
}

function decodeProg(s: Struct): ProgInfo {
  const type = s.getU32(0) as ProgramType;
  const loadTime = s.getU64(40);
  return {
    id: s.getU32(4),
    type,
    typeName: ProgramType[type] ?? String(type),
    name: s.getStr(64, 16),
    tag: hex(s.bytes.subarray(8, 16)),
    jitedProgLen: s.getU32(16),
    xlatedProgLen: s.getU32(20),
    loadTime,
    loadedAt: bootTimeToDate(loadTime),
    createdByUid: s.getU32(48),
    mapIds: [],
    ifindex: s.getU32(80),
    gplCompatible: (s.getU32(84) & 1) === 1,
    btfId: s.getU32(128),
    runTimeNs: s.getU64(192),
    runCnt: s.getU64(200),
    recursionMisses: s.getU64(208),
    verifiedInsns: s.getU32(216),
    attachBtfObjId: s.getU32(220),
    attachBtfId: s.getU32(224),
  };
}

export function mapInfo(fd: number): MapInfo {
  const s = new Struct(88);
  objGetInfoByFd(fd, s.bytes);
  const type = s.getU32(0) as MapType;
  return {
    id: s.getU32(4),
    type,
    typeName: MapType[type] ?? String(type),
    keySize: s.getU32(8),
    valueSize: s.getU32(12),
    maxEntries: s.getU32(16),
    flags: s.getU32(20),
    name: s.getStr(24, 16),
    ifindex: s.getU32(40),
    btfVmlinuxValueTypeId: s.getU32(44),
    btfId: s.getU32(64),
    btfKeyTypeId: s.getU32(68),
    btfValueTypeId: s.getU32(72),
    mapExtra: s.getU64(80),
  };
}

export function linkInfo(fd: number): LinkInfo {
  let s = new Struct(64);
  objGetInfoByFd(fd, s.bytes);
  const type = s.getU32(0) as LinkType;
  const out: LinkInfo = { id: s.getU32(4), type, typeName: LinkType[type] ?? String(type), progId: s.getU32(8) };
  switch (type) {
    case LinkType.RAW_TRACEPOINT: {
      const len = s.getU32(24);
      if (len > 0) {
        const name = new Uint8Array(len);
        s = new Struct(64).ptr(16, name).u32(24, len);
        objGetInfoByFd(fd, s.bytes);
        out.tpName = new TextDecoder().decode(name.subarray(0, Math.max(0, name.indexOf(0))));
      }
      break;
    }
    case LinkType.TRACING:
      out.attachType = s.getU32(16);
      out.targetObjId = s.getU32(20);
      out.targetBtfId = s.getU32(24);
      break;
    case LinkType.CGROUP:
      out.cgroupId = s.getU64(16);
      out.attachType = s.getU32(24);
      break;
    case LinkType.NETNS:
      out.attachType = s.getU32(20);
      break;
    case LinkType.XDP:
      out.ifindex = s.getU32(16);
      break;
    case LinkType.TCX:
    case LinkType.NETKIT:
      out.ifindex = s.getU32(16);
      out.attachType = s.getU32(20);
      break;
    default:
      break;
  }
  return out;
}

export function btfInfo(fd: number): BtfInfo {
  const name = new Uint8Array(256);
  const s = new Struct(32).ptr(16, name).u32(24, name.length);
  objGetInfoByFd(fd, s.bytes);
  return { id: s.getU32(12), size: s.getU32(8), name: new TextDecoder().decode(name.subarray(0, Math.max(0, name.indexOf(0)))), kernelBtf: s.getU32(28) !== 0 };
}

/** Info about every object of one kind (objects that vanish while listing are skipped). */
function list<T>(next: BpfCmd.PROG_GET_NEXT_ID | BpfCmd.MAP_GET_NEXT_ID | BpfCmd.LINK_GET_NEXT_ID | BpfCmd.BTF_GET_NEXT_ID,
  byId: BpfCmd.PROG_GET_FD_BY_ID | BpfCmd.MAP_GET_FD_BY_ID | BpfCmd.LINK_GET_FD_BY_ID | BpfCmd.BTF_GET_FD_BY_ID,
  decode: (fd: number) => T): T[] {
  const out: T[] = [];
  for (const id of allIds(next)) {
    let fd: number;
    try {
      fd = getFdById(byId, id);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === Errno.ENOENT) continue;
      throw e;
    }
    try {
      out.push(decode(fd));
    } finally {
      closeFd(fd);
    }
  }
  return out;
}

/** Info about the program with kernel id `id`, or undefined when no such program is loaded (any more). */
export function progInfoById(id: number): ProgInfo | undefined {
  let fd: number;
  try {
    fd = getFdById(BpfCmd.PROG_GET_FD_BY_ID, id);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.ENOENT) return undefined;
    throw e;
  }
  try {
    return progInfo(fd);
  } finally {
    closeFd(fd);
  }
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
