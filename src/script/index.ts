// The script language's public surface: compile (parse, check, generate a CollectionSpec) and run
// (in the kernel, or the VM for BEGIN/END/interval probes).
export { parse, parseExpression } from './parser.js';
export { check, type CheckEnv, type Checked, type Unit } from './checker/checker.js';
export { generate, type CompiledUnit } from './codegen/unit.js';
export { compile, type CompiledScript } from './compile.js';
export type { CompileOptions, ScriptEnv } from './env.js';
export { compileScript, hostEnv } from './run/host.js';
export { runScript, runCompiled, type RunOptions, type RunResult } from './run/kernel.js';
export { runInVm, type VmRunOptions } from './vm.js';
export { traceCommand, listProbes } from './run/cli.js';
export { ScriptError, formatDiagnostic } from './error.js';
export type * from './ast.js';
