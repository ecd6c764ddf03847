// The script language's public surface: compile (parse, check, generate a CollectionSpec) and run
// (in the kernel, or the VM for BEGIN/END/interval probes).
export { parse, parseExpression } from './parser.js';
export { check, type CheckEnv, type Checked, type Unit } from './checker/checker.js';
export { generate, type CompiledUnit } from './codegen/unit.js';
export { compileScriptFor, type CompiledScript, type CompileOptions, type ScriptMachine } from './compile-for.js';
export { compileScript, hostMachine } from './compile.js';
export { runScript, runCompiled, type RunOptions, type RunResult } from './runtime.js';
export { runInVm, compileForVm, vmMachine, type VmRunOptions } from './vm.js';
export { traceCommand, listProbes } from './cli.js';
export { ScriptError, formatDiagnostic } from './error.js';
export type * from './ast.js';
