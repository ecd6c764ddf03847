// Attaching programs: one import for every kind of attachment.
export { Link, type LinkParts, type AttachableProgram } from './link.js';
export { attachTracepoint, attachRawTracepoint, attachTracing } from './tracepoint.js';
export { attachKprobe, attachKprobeMulti, attachUprobe, attachUprobeMulti, resolveLibrary, uprobeTarget, type KprobeOptions, type KprobeMultiOptions, type UprobeOptions, type UprobeMultiOptions } from './kprobe.js';
export { attachPerfEvent, attachToPerfEvent, type PerfEventAttachOptions } from './perf-event.js';
export { attachXdp, attachTcx, attachCgroup, attachSocketFilter, ifindex, XdpFlags } from './net.js';
export { attachIter, readIter, type IterOptions } from './iter.js';
export {
  xdpState, attachXdpNetlink, detachXdpNetlink, attachTcNetlink, clsactParent, clsactPresent, tcFilters, qdiscs, rootQdisc,
  replaceRootQdisc, restoreRootQdisc, removeTcFilters, type XdpMode, type TcDirection, type RootQdisc, type Qdisc, type XdpState,
} from './netlink.js';
