// The raw BTF of a loaded BTF object (by id): what a map or program was typed with, to decode its
// contents in `tsbpf map dump` / `prog show`.
import { BpfCmd } from '../uapi/bpf.js';
import { bpf_btf_info } from '../uapi/bpf-abi.js';
import { Struct } from './attr.js';
import { getFdById, objGetInfoByFd } from './bpf.js';
import { closeFd } from './fds.js';

/** The BTF blob of BTF object `id` (struct bpf_btf_info asked twice: its size, then its bytes). */
export function btfBytesById(id: number): Uint8Array {
  const fd = getFdById(BpfCmd.BTF_GET_FD_BY_ID, id);
  try {
    const probe = new Struct(bpf_btf_info);
    objGetInfoByFd(fd, probe.bytes);
    const size = probe.get('btf_size');
    const buf = new Uint8Array(size);
    const s = new Struct(bpf_btf_info).ptr('btf', buf).set('btf_size', size);
    objGetInfoByFd(fd, s.bytes);
    return buf;
  } finally {
    closeFd(fd);
  }
}
