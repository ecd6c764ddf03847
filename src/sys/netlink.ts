// A small rtnetlink client (NETLINK_ROUTE) over the addon's socket calls: what `ip link set xdp`
// and `tc qdisc|filter` send. Used where the kernel has no bpf_link for an attachment (XDP before
// 5.9, tc before tcx in 6.6) and for qdiscs (fq for EDT pacing). Requests are acknowledged; a
// negative ack becomes a SyscallError carrying the kernel's extended-ack message when it sent one.
import { native } from './native.js';
import { Errno, SyscallError, check } from './errors.js';
import { closeFd, trackFd, type Fd } from './fds.js';
import { AF_NETLINK, ETH_P_ALL, SOCK_CLOEXEC, SOCK_RAW, SOL_NETLINK, SOL_SOCKET, SO_RCVTIMEO } from '../uapi/socket.js';

const NETLINK_ROUTE = 0;
const NETLINK_EXT_ACK = 11;

// nlmsghdr types and flags
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F = { REQUEST: 1, MULTI: 2, ACK: 4, DUMP: 0x300, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, CAPPED: 0x100, ACK_TLVS: 0x200 } as const;
export const RTM = { NEWLINK: 16, GETLINK: 18, SETLINK: 19, NEWQDISC: 36, DELQDISC: 37, GETQDISC: 38, NEWTFILTER: 44, DELTFILTER: 45, GETTFILTER: 46 } as const;
const NLMSGERR_ATTR_MSG = 1;
const NLA_F_NESTED = 0x8000;

// link attributes
export const IFLA_XDP = 43;
export const IFLA_XDP_ATTR = { FD: 1, ATTACHED: 2, FLAGS: 3, PROG_ID: 4, DRV_PROG_ID: 5, SKB_PROG_ID: 6, HW_PROG_ID: 7, EXPECTED_FD: 8 } as const;
/** IFLA_XDP_ATTACHED values */
export const XDP_ATTACHED = { NONE: 0, DRV: 1, SKB: 2, HW: 3, MULTI: 4 } as const;

// traffic control
export const TCA = { KIND: 1, OPTIONS: 2 } as const;
export const TCA_BPF = { FD: 6, NAME: 7, FLAGS: 8, ID: 11 } as const;
export const TCA_BPF_FLAG_ACT_DIRECT = 1;
export const TC_H = { ROOT: 0xffffffff, CLSACT: 0xfffffff1, INGRESS: 0xfffffff1, MIN_INGRESS: 0xfff2, MIN_EGRESS: 0xfff3 } as const;

export const tcHandle = (major: number, minor: number): number => ((major & 0xffff0000) | (minor & 0xffff)) >>> 0;

/** One netlink attribute (type without the NESTED flag) and its payload. */
export interface Attr {
  type: number;
  data: Uint8Array;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** rtattr/nlattr TLVs: u16 len, u16 type, payload padded to 4. */
export function encodeAttrs(attrs: readonly Attr[]): Uint8Array {
  const total = attrs.reduce((n, a) => n + align4(4 + a.data.length), 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let off = 0;
  for (const a of attrs) {
    v.setUint16(off, 4 + a.data.length, true);
    v.setUint16(off + 2, a.type, true);
    out.set(a.data, off + 4);
    off += align4(4 + a.data.length);
  }
  return out;
}

/**
 * Walk netlink's length-led records (nlattr: a u16 length, nlmsghdr: a u32 length; both padded to 4
 * bytes), decoding each at its offset. A length that runs past the end or under the header stops the
 * walk (malformed input).
 */
function walk<T>(b: Uint8Array, hdrLen: 4 | 16, decode: (v: DataView, off: number, len: number) => T): T[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: T[] = [];
  let off = 0;
  while (off + hdrLen <= b.length) {
    const len = hdrLen === 4 ? v.getUint16(off, true) : v.getUint32(off, true);
    if (len < hdrLen || off + len > b.length) break;
    out.push(decode(v, off, len));
    off += align4(len);
  }
  return out;
}

/** Parse TLVs (struct nlattr). */
export function decodeAttrs(b: Uint8Array): Attr[] {
  return walk(b, 4, (v, off, len) => ({ type: v.getUint16(off + 2, true) & ~NLA_F_NESTED & 0xffff, data: b.slice(off + 4, off + len) }));
}

export const attr = {
  u32(type: number, v: number): Attr {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, v >>> 0, true);
    return { type, data: d };
  },
  i32(type: number, v: number): Attr {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setInt32(0, v, true);
    return { type, data: d };
  },
  str(type: number, s: string): Attr {
    const e = new TextEncoder().encode(s);
    const d = new Uint8Array(e.length + 1);
    d.set(e);
    return { type, data: d };
  },
  nested(type: number, inner: readonly Attr[]): Attr {
    return { type: type | NLA_F_NESTED, data: encodeAttrs(inner) };
  },
};

export const attrU32 = (a: Attr | undefined): number | undefined => (a && a.data.length >= 4 ? new DataView(a.data.buffer, a.data.byteOffset).getUint32(0, true) : undefined);
export const attrStr = (a: Attr | undefined): string | undefined => {
  if (!a) return undefined;
  const end = a.data.indexOf(0);
  return new TextDecoder().decode(end < 0 ? a.data : a.data.subarray(0, end));
};

/** struct ifinfomsg (16 bytes). */
export function ifinfomsg(ifindex: number, family = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint8(0, family);
  v.setInt32(4, ifindex, true);
  return b;
}

/** struct tcmsg (20 bytes). */
export function tcmsg(o: { ifindex: number; handle?: number; parent?: number; info?: number; family?: number }): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint8(0, o.family ?? 0);
  v.setInt32(4, o.ifindex, true);
  v.setUint32(8, (o.handle ?? 0) >>> 0, true);
  v.setUint32(12, (o.parent ?? 0) >>> 0, true);
  v.setUint32(16, (o.info ?? 0) >>> 0, true);
  return b;
}

/** A decoded message: type, flags, the fixed header after nlmsghdr, and its attributes. */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  payload: Uint8Array;
}

/** Split a datagram into messages (stops at a truncated or malformed header). */
export function splitMessages(buf: Uint8Array): NlMessage[] {
  return walk(buf, 16, (v, off, len) => ({ type: v.getUint16(off + 4, true), flags: v.getUint16(off + 6, true), seq: v.getUint32(off + 8, true), payload: buf.slice(off + 16, off + len) }));
}

/** The errno (positive, 0 for an ack) and extended-ack message of an NLMSG_ERROR payload. */
export function parseError(m: NlMessage): { errno: number; message?: string } {
  if (m.payload.length < 4) return { errno: Errno.EIO, message: 'truncated netlink error' };
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const errno = -v.getInt32(0, true);
  let message: string | undefined;
  if (m.flags & NLM_F.ACK_TLVS && m.payload.length >= 20) {
    // the echoed request: only its header when CAPPED, else the whole message
    const origLen = m.flags & NLM_F.CAPPED ? 16 : v.getUint32(4, true);
    const tlvs = m.payload.subarray(4 + align4(Math.max(16, Math.min(origLen, m.payload.length - 4))));
    message = attrStr(decodeAttrs(tlvs).find((a) => a.type === NLMSGERR_ATTR_MSG));
  }
  return { errno, message };
}

/** A NETLINK_ROUTE socket. Every request waits for its answer (5 s at most: no hang). */
export class Rtnetlink {
  private fd: Fd | -1;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly buf = new Uint8Array(1 << 16);

  constructor() {
    const n = native();
    const fd = trackFd(check(n.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), 'socket', 'open a NETLINK_ROUTE socket'), 'rtnetlink socket');
    this.fd = fd;
    const tv = new BigInt64Array([5n, 0n]);
    n.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv);
    n.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, new Int32Array([1])); // older kernels: no messages, still fine
  }

  private send(type: number, flags: number, body: Uint8Array, operation: string): number {
    const seq = (this.seq = (this.seq + 1) >>> 0);
    const msg = new Uint8Array(16 + body.length);
    const v = new DataView(msg.buffer);
    v.setUint32(0, msg.length, true);
    v.setUint16(4, type, true);
    v.setUint16(6, flags | NLM_F.REQUEST, true);
    v.setUint32(8, seq, true);
    msg.set(body, 16);
    const to = new Uint8Array(12);
    new DataView(to.buffer).setUint16(0, AF_NETLINK, true);
    check(native().sendto(this.fd, msg, 0, to), 'sendto', operation);
    return seq;
  }

  private *receive(seq: number, operation: string): Generator<NlMessage> {
    for (;;) {
      const r = native().recvfrom(this.fd, this.buf, 0, null);
      if (r < 0) {
        if (-r === Errno.EINTR) continue;
        throw new SyscallError('recvfrom', -r, operation, -r === Errno.EAGAIN ? 'no answer from the kernel within 5 s' : undefined);
      }
      for (const m of splitMessages(this.buf.subarray(0, r))) {
        if (m.seq !== seq) continue; // a late answer to an earlier request
        yield m;
      }
    }
  }

  /** Send a request with NLM_F_ACK and wait for its ack; a negative ack throws. */
  request(type: number, flags: number, body: Uint8Array, operation: string, hint?: (errno: number) => string | undefined): void {
    const seq = this.send(type, flags | NLM_F.ACK, body, operation);
    for (const m of this.receive(seq, operation)) {
      if (m.type !== NLMSG_ERROR) continue;
      const { errno, message } = parseError(m);
      if (errno !== 0) throw new SyscallError('netlink', errno, operation, hint?.(errno), message);
      return;
    }
  }

  /** A dump request: every answer message up to NLMSG_DONE. */
  dump(type: number, body: Uint8Array, operation: string): NlMessage[] {
    const seq = this.send(type, NLM_F.DUMP, body, operation);
    const out: NlMessage[] = [];
    for (const m of this.receive(seq, operation)) {
      if (m.type === NLMSG_DONE) return out;
      if (m.type === NLMSG_ERROR) {
        const { errno, message } = parseError(m);
        if (errno !== 0) throw new SyscallError('netlink', errno, operation, undefined, message);
        return out;
      }
      out.push(m);
    }
    return out;
  }

  close(): void {
    closeFd(this.fd);
    this.fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Run `f` with a fresh socket, closed afterwards. */
export function withRtnetlink<T>(f: (nl: Rtnetlink) => T): T {
  const nl = new Rtnetlink();
  try {
    return f(nl);
  } finally {
    nl.close();
  }
}

// ---- XDP by netlink (IFLA_XDP) -------------------------------------------------------------------

export interface XdpState {
  /** XDP_ATTACHED_* */
  attached: number;
  progId: number;
  drvProgId: number;
  skbProgId: number;
}

/** Set (progFd >= 0) or remove (progFd -1) the XDP program of an interface. */
export function linkSetXdp(ifindex: number, progFd: Fd | -1, flags: number, o: { expectedFd?: Fd } = {}): void {
  const inner = [attr.i32(IFLA_XDP_ATTR.FD, progFd), attr.u32(IFLA_XDP_ATTR.FLAGS, flags)];
  if (o.expectedFd !== undefined) inner.push(attr.i32(IFLA_XDP_ATTR.EXPECTED_FD, o.expectedFd));
  const body = concat(ifinfomsg(ifindex), encodeAttrs([attr.nested(IFLA_XDP, inner)]));
  withRtnetlink((nl) =>
    nl.request(RTM.SETLINK, 0, body, `${progFd < 0 ? 'remove' : 'set'} XDP on ifindex ${ifindex} (netlink)`, (e) =>
      e === Errno.EBUSY || e === Errno.EEXIST
        ? 'another XDP program is attached (in the other mode, or by a bpf_link): detach it first'
        : e === Errno.EOPNOTSUPP
          ? 'the driver has no native XDP: use generic mode (XDP_FLAGS_SKB_MODE)'
          : undefined,
    ),
  );
}

/** The XDP state of an interface (RTM_GETLINK). */
export function linkXdpState(ifindex: number): XdpState {
  return withRtnetlink((nl) => {
    const v = new Uint8Array(16);
    new DataView(v.buffer).setInt32(4, ifindex, true);
    // a GETLINK by index answers with one NEWLINK message (plus its ack)
    const seqMsgs = nl.dump(RTM.GETLINK, v, `get link ${ifindex}`);
    const m = seqMsgs.find((x) => x.type === RTM.NEWLINK && new DataView(x.payload.buffer, x.payload.byteOffset).getInt32(4, true) === ifindex);
    const state: XdpState = { attached: 0, progId: 0, drvProgId: 0, skbProgId: 0 };
    if (!m) throw new SyscallError('netlink', Errno.ENODEV, `get link ${ifindex}`, 'no such interface');
    const xdp = decodeAttrs(m.payload.subarray(16)).find((a) => a.type === IFLA_XDP);
    if (!xdp) return state;
    const inner = decodeAttrs(xdp.data);
    const get = (t: number): number => attrU32(inner.find((a) => a.type === t)) ?? 0;
    state.attached = new Uint8Array(inner.find((a) => a.type === IFLA_XDP_ATTR.ATTACHED)?.data ?? [0])[0] ?? 0;
    state.progId = get(IFLA_XDP_ATTR.PROG_ID);
    state.drvProgId = get(IFLA_XDP_ATTR.DRV_PROG_ID);
    state.skbProgId = get(IFLA_XDP_ATTR.SKB_PROG_ID);
    return state;
  });
}

// ---- qdiscs and filters ---------------------------------------------------------------------------

export interface Qdisc {
  ifindex: number;
  handle: number;
  parent: number;
  kind: string;
  /** TCA_OPTIONS as the kernel reports them (enough to re-create most qdiscs) */
  options?: Uint8Array;
}

function parseTc(m: NlMessage): { ifindex: number; handle: number; parent: number; info: number; attrs: Attr[] } {
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  if (m.payload.length < 20) throw new SyscallError('netlink', Errno.EIO, 'parse tcmsg', undefined, 'truncated tcmsg');
  return { ifindex: v.getInt32(4, true), handle: v.getUint32(8, true), parent: v.getUint32(12, true), info: v.getUint32(16, true), attrs: decodeAttrs(m.payload.subarray(20)) };
}

/** The qdiscs of an interface. */
export function listQdiscs(ifindex: number): Qdisc[] {
  return withRtnetlink((nl) =>
    nl
      .dump(RTM.GETQDISC, tcmsg({ ifindex }), `list qdiscs of ifindex ${ifindex}`)
      .filter((m) => m.type === RTM.NEWQDISC)
      .map(parseTc)
      .filter((q) => q.ifindex === ifindex)
      .map((q) => ({
        ifindex: q.ifindex,
        handle: q.handle,
        parent: q.parent,
        kind: attrStr(q.attrs.find((a) => a.type === TCA.KIND)) ?? '',
        options: q.attrs.find((a) => a.type === TCA.OPTIONS)?.data,
      })),
  );
}

/** Add (or with replace, replace) a qdisc. `options` are the TCA_OPTIONS attributes of its kind. */
export function addQdisc(q: { ifindex: number; kind: string; parent: number; handle?: number; options?: readonly Attr[] | Uint8Array; replace?: boolean }): void {
  const attrs: Attr[] = [attr.str(TCA.KIND, q.kind)];
  if (q.options) attrs.push(q.options instanceof Uint8Array ? { type: TCA.OPTIONS | NLA_F_NESTED, data: q.options } : attr.nested(TCA.OPTIONS, q.options));
  const body = concat(tcmsg({ ifindex: q.ifindex, parent: q.parent, handle: q.handle ?? 0 }), encodeAttrs(attrs));
  const flags = NLM_F.CREATE | (q.replace ? NLM_F.REPLACE : NLM_F.EXCL);
  withRtnetlink((nl) =>
    nl.request(RTM.NEWQDISC, flags, body, `add qdisc ${q.kind} on ifindex ${q.ifindex}`, (e) =>
      e === Errno.ENOENT ? `the kernel has no "${q.kind}" qdisc (module sch_${q.kind} missing?)` : e === Errno.EEXIST ? 'a qdisc is already there' : undefined,
    ),
  );
}

export function deleteQdisc(q: { ifindex: number; parent: number; handle?: number; kind?: string }): void {
  const attrs = q.kind ? encodeAttrs([attr.str(TCA.KIND, q.kind)]) : new Uint8Array(0);
  const body = concat(tcmsg({ ifindex: q.ifindex, parent: q.parent, handle: q.handle ?? 0 }), attrs);
  withRtnetlink((nl) => nl.request(RTM.DELQDISC, 0, body, `delete qdisc ${q.kind ?? ''} on ifindex ${q.ifindex}`.replace('  ', ' ')));
}

export interface BpfFilterSpec {
  ifindex: number;
  /** TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS|EGRESS) */
  parent: number;
  progFd: Fd;
  name: string;
  prio: number;
  handle: number;
  protocol?: number;
}

const htons = (x: number): number => ((x & 0xff) << 8) | ((x >> 8) & 0xff);

/** A cls_bpf filter in direct-action mode. */
export function addBpfFilter(f: BpfFilterSpec): void {
  const info = tcHandle(f.prio << 16, htons(f.protocol ?? ETH_P_ALL));
  const opts = [attr.u32(TCA_BPF.FD, f.progFd), attr.str(TCA_BPF.NAME, f.name), attr.u32(TCA_BPF.FLAGS, TCA_BPF_FLAG_ACT_DIRECT)];
  const body = concat(tcmsg({ ifindex: f.ifindex, parent: f.parent, handle: f.handle, info }), encodeAttrs([attr.str(TCA.KIND, 'bpf'), attr.nested(TCA.OPTIONS, opts)]));
  withRtnetlink((nl) =>
    nl.request(RTM.NEWTFILTER, NLM_F.CREATE | NLM_F.EXCL, body, `add bpf filter ${f.name} on ifindex ${f.ifindex}`, (e) =>
      e === Errno.EINVAL ? 'is there a clsact qdisc on the interface? (the filter needs one)' : e === Errno.EEXIST ? 'a filter with this priority and handle exists' : undefined,
    ),
  );
}

export function deleteFilter(f: { ifindex: number; parent: number; prio: number; handle: number; protocol?: number }): void {
  const info = tcHandle(f.prio << 16, htons(f.protocol ?? ETH_P_ALL));
  const body = concat(tcmsg({ ifindex: f.ifindex, parent: f.parent, handle: f.handle, info }), encodeAttrs([attr.str(TCA.KIND, 'bpf')]));
  withRtnetlink((nl) => nl.request(RTM.DELTFILTER, 0, body, `delete bpf filter on ifindex ${f.ifindex}`));
}

export interface TcFilter {
  handle: number;
  prio: number;
  kind: string;
  name?: string;
  progId?: number;
}

export function listFilters(ifindex: number, parent: number): TcFilter[] {
  return withRtnetlink((nl) =>
    nl
      .dump(RTM.GETTFILTER, tcmsg({ ifindex, parent }), `list filters of ifindex ${ifindex}`)
      .filter((m) => m.type === 44)
      .map(parseTc)
      .filter((f) => f.handle !== 0) // the per-priority chain headers
      .map((f) => {
        const opts = decodeAttrs(f.attrs.find((a) => a.type === TCA.OPTIONS)?.data ?? new Uint8Array(0));
        return {
          handle: f.handle,
          prio: f.info >>> 16,
          kind: attrStr(f.attrs.find((a) => a.type === TCA.KIND)) ?? '',
          name: attrStr(opts.find((a) => a.type === TCA_BPF.NAME)),
          progId: attrU32(opts.find((a) => a.type === TCA_BPF.ID)),
        };
      }),
  );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
