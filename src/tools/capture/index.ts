// `capture` as a library: tcpdump filter expressions compiled by tsbpf to eBPF socket filters, live
// capture on AF_PACKET sockets, the same filters over pcap files, and the command.
export { compileFilter, packetFilter, type CompiledFilter, type CompileOptions } from '../../net/filter/compile.js';
export { FilterSyntaxError } from '../../net/filter/error.js';
export { readPcap, writePcap, PcapReader, PcapWriter, PcapFormatError, type PcapRecord, type PcapHeader } from '../../net/pcap.js';
export { formatPacket, summary } from '../../net/print.js';
export { capture, LiveCapture, type CaptureOptions, type CapturedPacket } from './capture.js';
export { filterFile, countMatches, scanFile, scanPath, type FilePacket } from './file.js';
export { loadFilterProgram, testRunFilter } from './filter-program.js';
export { captureCommand, captureProgram } from './cli.js';
