// The builtins of the language, each described once: its name, how it is written, the checker's rule
// (its type in a probe, and what is an error) and its code (the value into r0, into stack memory, or
// the statement). The checker and the code generator look builtins up here; neither switches on names.
import type { BuiltinFunction, BuiltinVariable } from './context.js';
import { FUNCTIONS_OF_OUTPUT } from './output.js';
import { FUNCTIONS_OF_STRINGS } from './strings.js';
import { FUNCTIONS_OF_SYSTEM } from './system.js';
import { REGISTER_FUNCTIONS, STACK_ARGUMENTS } from './registers.js';
import { FUNCTIONS_OF_VALUES } from './values.js';
import { VARIABLES } from './variables.js';

const byName = <T extends { name: string }>(lists: T[][]): ReadonlyMap<string, T> => new Map(lists.flat().map((x) => [x.name, x]));

/** Builtin variables: `pid`, `comm`, `arg0`, ... */
export const BUILTIN_VARIABLES: ReadonlyMap<string, BuiltinVariable> = byName([VARIABLES, STACK_ARGUMENTS]);
/** Builtin functions: `printf(...)`, `str(...)`, ... (aggregations are in aggregations.ts) */
export const BUILTIN_FUNCTIONS: ReadonlyMap<string, BuiltinFunction> = byName([FUNCTIONS_OF_OUTPUT, FUNCTIONS_OF_STRINGS, FUNCTIONS_OF_VALUES, FUNCTIONS_OF_SYSTEM, REGISTER_FUNCTIONS]);

