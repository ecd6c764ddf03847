// The compiled filter as a kernel program: load it (through Collection, like any object's programs),
// and run it on a frame with BPF_PROG_TEST_RUN.
import { Collection } from '../../kernel/collection.js';
import type { Program } from '../../kernel/program.js';
import { FILTER_PROGRAM, type CompiledFilter } from '../../net/filter/compile.js';

/**
 * Load the filter (a BPF_PROG_TYPE_SOCKET_FILTER program; the verifier checks it here). Its
 * collection holds nothing else: closing the program releases everything.
 */
export function loadFilterProgram(f: CompiledFilter): Program {
  return Collection.fromSpec(f.spec).program(FILTER_PROGRAM);
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
