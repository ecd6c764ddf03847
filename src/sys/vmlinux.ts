// The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed once: attach targets of tp_btf,
// fentry/fexit and LSM programs are type ids in it.
import { fstatSync, readFileSync } from 'node:fs';
import { parseBtf } from '../btf/parse.js';
import type { Btf } from '../btf/btf.js';
import { BtfKind } from '../btf/types.js';
import { Errno, SyscallError } from './errors.js';
import { native } from './native.js';

const PATH = '/sys/kernel/btf/vmlinux';
let cached: Btf | undefined;

export function vmlinuxBtf(): Btf {
  if (!cached) {
    let bytes: Uint8Array;
    try {
      bytes = mapped() ?? new Uint8Array(readFileSync(PATH));
    } catch {
      throw new SyscallError('open', Errno.ENOENT, `read ${PATH}`, 'kernel built without CONFIG_DEBUG_INFO_BTF: tp_btf/fentry/CO-RE need kernel BTF');
    }
    cached = parseBtf(bytes);
  }
  return cached;
}

const PROT_READ = 1;
const MAP_PRIVATE = 2;

/**
 * The kernel's BTF mapped read-only (Linux >= 6.16 lets /sys/kernel/btf/vmlinux be mmapped, as
 * libbpf does): no 5 MB read and copy at every start. undefined where the kernel refuses (older
 * kernels), and the caller reads the file. The pages are read-only: the parser only reads them.
 */
function mapped(): Uint8Array | undefined {
  const fd = native().open(PATH, 0);
  if (fd < 0) return undefined;
  try {
    const size = fstatSync(fd).size;
    if (!size) return undefined;
    const r = native().mmap(fd, size, PROT_READ, MAP_PRIVATE, 0);
    return typeof r === 'number' ? undefined : new Uint8Array(r);
  } catch {
    return undefined;
  } finally {
    native().close(fd);
  }
}

/** Id of a kernel BTF type by name and kind; throws a clear error if absent. */
export function kernelBtfId(name: string, kind: BtfKind): number {
  const t = vmlinuxBtf().findByName(name, kind);
  if (!t) throw new SyscallError('bpf', Errno.ENOENT, `find ${BtfKind[kind]} ${name} in kernel BTF`, 'no such function/tracepoint in this kernel (see bpftool btf dump file /sys/kernel/btf/vmlinux)');
  return t.id;
}

/** attach_btf_id for a tp_btf program on tracepoint `name` (the typedef btf_trace_<name>). */
export const tpBtfId = (name: string): number => kernelBtfId(`btf_trace_${name}`, BtfKind.TYPEDEF);
/** attach_btf_id for fentry/fexit on kernel function `name`. */
export const funcBtfId = (name: string): number => kernelBtfId(name, BtfKind.FUNC);
