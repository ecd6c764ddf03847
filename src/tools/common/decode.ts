// Field accessors for records decoded from BTF: char arrays may come as strings or bytes, integers
// as numbers or bigints. The front ends read fields through these so they do not depend on how
// the decoder chose to represent a C type.
import { cString } from '../../output/table.js';

export function str(v: unknown): string {
  if (typeof v === 'string') return cString(v);
  if (v instanceof Uint8Array) return cString(v);
  if (Array.isArray(v)) return cString(new Uint8Array(v as number[]));
  return v === undefined || v === null ? '' : String(v);
}

export function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return new Uint8Array(v.map((x) => Number(x)));
  if (typeof v === 'string') return new TextEncoder().encode(v);
  return new Uint8Array(0);
}

export function num(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return 0;
}

export function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return 0n;
}

/** Signed 32-bit view of a value decoded either signed or unsigned. */
export function s32(v: unknown): number {
  return num(v) | 0;
}

export function numbers(v: unknown): number[] {
  if (Array.isArray(v)) return v.map(num);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, num);
  return [];
}
