// tsbpf: the library. Load clang-built eBPF objects into the kernel, work with their maps and event
// buffers, attach programs to every kind of hook, and read trace_pipe.
//
//   import { Collection } from 'tsbpf';
//   using coll = Collection.load('tcpconnect.bpf.o');
//   coll.attach();
//   for await (const e of coll.ringBuffer('events', { type: 'struct event' })) console.log(e);
//
// The userspace runtime (verifier, interpreter, JIT to WebAssembly) is `tsbpf/vm`.
export { Collection, CollectionError, typeIdByName, type CollectionOptions, type BufferOptions, type ConstantValue, type DecodedRecord, type RingBufferLoadOptions, type PerfBufferLoadOptions } from './kernel/collection.js';
export { defineObjects, LoadedObjects, mapProperties, recordType, type ConstantsOf, type InputOf, type LoadConstantsOf, type LoadedOf, type MapsOf, type ObjectTypes, type ObjectsDefinition, type ObjectsLayout, type ProgramOf, type RecordsOf, type RecordType, type RecordTypes, type SectionConstants, type TypedLoadOptions } from './kernel/typed.js';
export { generateTypes, type GenerateTypesOptions } from './gen/objects.js';
export { Program, type ProgramLoadOptions, type TestRunOptions } from './kernel/program.js';
export { attachProgram, type AttachOptions } from './kernel/attach.js';
export { RunTimeStats } from './kernel/stats.js';
export * from './maps/index.js';
export * from './link/index.js';
export { SyscallError, VerifierError, Errno } from './sys/errors.js';
export type { ErrnoName } from './sys/errors.js';
export { onCleanup } from './sys/cleanup.js';
export { asFd, type Fd } from './sys/fd.js';
export { PolledQueue, watchReadable, type PolledOptions } from './sys/poll.js';
export { PacketSocket, interfaceIndex, ARPHRD_ETHER, ARPHRD_LOOPBACK, PACKET_OUTGOING, type RingFrame, type RingOptions } from './sys/packet-socket.js';
export * as features from './kernel/features.js';
export { ensureBpffs, ensureTracefs } from './sys/mounts.js';
export { listPrograms, listMaps, listLinks, listBtf, progInfo, progInfoById, mapInfo, linkInfo, type ProgInfo, type MapInfo, type LinkInfo } from './sys/info.js';
export { tracePipe, parseTraceLine, isParsed, type TraceLine, type RawTraceLine } from './tracefs/pipe.js';
export { drainTracePipe } from './tracefs/drain.js';
export { tracepointId, tracepointFormat, tracepoints } from './tracefs/tracefs.js';
export { parseObject, ObjectError, type CollectionSpec, type ProgramSpec, type MapSpec } from './object/index.js';
export { parseBtf, Btf, BtfKind, btfToC, compileCodec } from './btf/index.js';
export { parseElf, ElfError } from './elf/index.js';
export { assemble, disassemble, Builder } from './isa/index.js';
export { compileBpf, CompileError } from './build/clang.js';
export { BpfCmd, MapType, ProgramType, AttachType, LinkType, BpfFunc } from './uapi/bpf.js';
