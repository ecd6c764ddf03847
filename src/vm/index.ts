// tsbpf's userspace eBPF runtime: verifier, checking interpreter, WebAssembly JIT, maps and helpers.
// Pure TypeScript with no Node built-ins: it runs in a browser too.
export { Vm, VmLoadError, XDP_ACTIONS, btfLayout, type EngineName, type LoadOptions, type ObjectInput, type ProgramInput, type RunOptions, type RunResult } from './vm.js';
export { verify, type VerifyOptions, type VerifyResult } from './verifier/verify.js';
export { VmError, type VmProgram } from './runtime.js';
export { MemoryAccessError, VmMemory } from './memory.js';
export { createMap, ArrayMap, HashMap, LpmTrieMap, ProgArrayMap, RingBufMap, VmMap, MapError, type MapSpec } from './maps/index.js';
export { HELPER_PROTOS, type HelperProto } from './helpers.js';
export { objectInput } from './object.js';
export { SocketFilter } from './socket-filter.js';
// What a program is made from, without a kernel: assembly, tcpdump filters and bpftrace-style scripts
// (which also run here: BEGIN, END and interval probes)
export { assemble, disassemble, Builder } from '../isa/index.js';
export { compileFilter, fileFilter, type CompiledFilter } from '../net/filter/compile.js';
export { compileScriptFor, type ScriptMachine, type CompiledScript } from '../script/compile-for.js';
export { runInVm, compileForVm, type VmRunOptions as ScriptVmRunOptions } from '../script/vm.js';
export { ProgramType } from '../uapi/bpf.js';
