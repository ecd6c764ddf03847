import { checkStructure } from '../check.js';
import type { VmMap } from '../maps/map.js';
import type { VmProgram } from '../runtime.js';
export interface VerifyOptions { maps?: VmMap[]; source?: (slot: number) => string | undefined }
export interface VerifyResult { ok: boolean; messages: string[] }
export function verify(prog: VmProgram, _o: VerifyOptions = {}): VerifyResult {
  try { checkStructure(prog.insns); return { ok: true, messages: [] }; } catch (e) { return { ok: false, messages: [(e as Error).message] }; }
}
