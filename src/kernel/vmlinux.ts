// The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed once: attach targets of tp_btf,
// fentry/fexit and LSM programs are type ids in it.
import { existsSync, readFileSync } from 'node:fs';
import { parseBtf } from '../btf/parse.js';
import type { Btf } from '../btf/btf.js';
import { BtfKind } from '../btf/types.js';
import { Errno, SyscallError } from '../sys/errors.js';
import { mapFileReadOnly } from '../sys/io.js';

const PATH = '/sys/kernel/btf/vmlinux';
let cached: Btf | undefined;

/** Whether the kernel publishes its BTF (CONFIG_DEBUG_INFO_BTF), without reading it. */
export const hasKernelBtf = (): boolean => existsSync(PATH);

export function vmlinuxBtf(): Btf {
  if (!cached) {
    let bytes: Uint8Array;
    try {
      // Linux >= 6.16 lets the file be mmapped (as libbpf does): no 5 MB read and copy at every start
      bytes = mapFileReadOnly(PATH) ?? new Uint8Array(readFileSync(PATH));
    } catch {
      throw new SyscallError('open', Errno.ENOENT, `read ${PATH}`, 'kernel built without CONFIG_DEBUG_INFO_BTF: tp_btf/fentry/CO-RE need kernel BTF');
    }
    cached = parseBtf(bytes);
  }
  return cached;
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
