// The raw BTF of a loaded BTF object (by id): what a map or program was typed with, to decode its
// contents in `tsbpf map dump` / `prog show`.
import { BpfCmd } from '../uapi/bpf.js';
import { Struct } from './attr.js';
import { getFdById, objGetInfoByFd } from './bpf.js';
import { closeFd } from './fds.js';

/** struct bpf_btf_info: btf (ptr) @0, btf_size @8, id @12, name @16, name_len @24, kernel_btf @28. */
export function btfBytesById(id: number): Uint8Array {
  const fd = getFdById(BpfCmd.BTF_GET_FD_BY_ID, id);
  try {
    const probe = new Struct(32);
    objGetInfoByFd(fd, probe.bytes);
    const size = probe.getU32(8);
    const buf = new Uint8Array(size);
    const s = new Struct(32).ptr(0, buf).u32(8, size);
    objGetInfoByFd(fd, s.bytes);
    return buf;
  } finally {
    closeFd(fd);
  }
}
