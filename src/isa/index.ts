// The ISA layer: instruction encoding (RFC 9669 and what Linux added since), decoded forms, helper
// names, the disassembler (llvm-objdump and kernel syntaxes), the assembler and the builder. Pure.
export * from './opcodes.js';
export * from './instruction.js';
export * from './form.js';
export * from './helpers.js';
export * from './relocation.js';
export * from './code.js';
export * from './disasm.js';
export { assemble, AsmError, type AsmResult } from './asm.js';
export * from './builder.js';
