// The compiled filter as a kernel program: load it, and run it on a frame with BPF_PROG_TEST_RUN.
import { Program } from '../../kernel/program.js';
import { ProgramType } from '../../uapi/bpf.js';
import type { CompiledFilter } from '../../net/filter/compile.js';

/** Load the filter as a BPF_PROG_TYPE_SOCKET_FILTER program (the verifier checks it here). */
export function loadFilterProgram(f: CompiledFilter, name = 'tsbpf_capture'): Program {
  return Program.load({ type: ProgramType.SOCKET_FILTER, instructions: f.insns, license: 'GPL', name });
}

/**
 * Run a loaded filter on one Ethernet frame in the kernel; returns the program's verdict (bytes to
 * keep, 0 = drop). BPF_PROG_TEST_RUN hands a socket filter the packet after eth_type_trans() has
 * pulled 14 bytes, but a filter on an AF_PACKET socket sees the frame from its first byte; so the
 * frame goes in behind a 14-byte dummy header, which is what gets pulled.
 */
export function testRunFilter(prog: Program, frame: Uint8Array): number {
  const data = new Uint8Array(frame.length + 14);
  data[12] = 0x88;
  data[13] = 0xb5; // IEEE local experimental ethertype
  data.set(frame, 14);
  return prog.testRun(data, { dataOutSize: data.length }).retval;
}
