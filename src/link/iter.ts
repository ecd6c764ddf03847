// BPF iterators (SEC("iter/...")): a TRACING program with expected attach type TRACE_ITER, linked
// with BPF_LINK_CREATE; each read of a fresh ITER_CREATE fd runs the program over the objects and
// returns what it wrote with bpf_seq_write/bpf_seq_printf.
import { AttachType } from '../uapi/bpf.js';
import { iterCreate, linkCreate } from '../sys/bpf.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { closeFd } from '../sys/fds.js';
import { readFd } from '../sys/io.js';
import { Link, type AttachableProgram } from './link.js';

export interface IterOptions {
  /** map element iterators (bpf_map_elem, bpf_sk_storage_map): the map to walk */
  mapFd?: number;
}

export function attachIter(prog: AttachableProgram, o: IterOptions = {}): Link {
  // union bpf_iter_link_info: { struct { __u32 map_fd; } map; ... }
  const info = o.mapFd !== undefined ? new Uint8Array(new Uint32Array([o.mapFd, 0]).buffer) : undefined;
  const fd = linkCreate({ progFd: prog.fd, target: 0, attachType: AttachType.TRACE_ITER, iterInfo: info });
  return new Link('iter', { linkFd: fd });
}

/** Run the iterator once and return everything it wrote. */
export function readIter(link: Link, chunk = 64 * 1024): Uint8Array {
  const fd = iterCreate(link.fd);
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const buf = new Uint8Array(chunk);
      const r = readFd(fd, buf);
      if (r === -Errno.EINTR || r === -Errno.EAGAIN) continue;
      if (r < 0) throw new SyscallError('read', -r, 'read BPF iterator');
      if (r === 0) break;
      parts.push(buf.subarray(0, r));
      total += r;
    }
  } finally {
    closeFd(fd);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
