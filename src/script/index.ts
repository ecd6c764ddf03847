// The script language's public surface: compile (parse, check, generate) and run.
export { parse, parseExpression } from './parser.js';
export { check, type CheckEnv, type Checked, type Unit } from './checker.js';
export { generate, type CompiledUnit } from './codegen.js';
export { compileScript, type CompileOptions, type CompiledScript } from './compile.js';
export { runScript, runCompiled, type RunOptions, type RunResult } from './runtime.js';
export { traceCommand, listProbes } from './cli.js';
export { ScriptError, formatDiagnostic } from './error.js';
export type * from './ast.js';
