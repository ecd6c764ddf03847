// A reference evaluation of tsbpf's predicate IR over packet bytes, with the meaning codegen gives
// it: and/or evaluate left to right and stop early, a load past the captured bytes (or at a
// negative offset) ends everything with "drop", arithmetic is unsigned 32-bit. The differential
// test checks that the compiled program says the same on every packet (so codegen and its
// optimizations are checked too), and learns from it whether a load ran past the packet.
import type { Pred, Val } from '../../src/net/filter/ir.js';

export interface EvalResult {
  accept: boolean;
  /** dropped because a load ran past the captured bytes */
  oob: boolean;
}

class Stop {
  constructor(readonly oob: boolean) {}
}

export function evalPred(p: Pred, data: Uint8Array, wirelen: number): EvalResult {
  const vars = new Map<number, number>();
  const val = (v: Val): number => {
    switch (v.k) {
      case 'const':
        return v.v >>> 0;
      case 'len':
        return wirelen >>> 0;
      case 'meta':
        throw new Error(`evalPred: skb field '${v.field}' in a filter for a file`);
      case 'var':
        return vars.get(v.id) ?? 0;
      case 'ihl':
        return 4 * (load(val(v.off), 1) & 0xf);
      case 'load':
        return load(val(v.off), v.size);
      case 'neg':
        return -val(v.a) >>> 0;
      case 'bin': {
        const a = val(v.a);
        const b = val(v.b);
        switch (v.op) {
          case '+': return (a + b) >>> 0;
          case '-': return (a - b) >>> 0;
          case '*': return Math.imul(a, b) >>> 0;
          case '/': if (b === 0) throw new Stop(false); return Math.floor(a / b) >>> 0;
          case '%': if (b === 0) throw new Stop(false); return a % b;
          case '&': return (a & b) >>> 0;
          case '|': return (a | b) >>> 0;
          case '^': return (a ^ b) >>> 0;
          case '<<': return (a << (b & 31)) >>> 0;
          case '>>': return a >>> (b & 31);
        }
      }
    }
  };
  const load = (offset: number, size: number): number => {
    const o = offset | 0; // the program's offsets are 32-bit signed
    if (o < 0 || o + size > data.length) throw new Stop(true);
    let v = 0;
    for (let k = 0; k < size; k++) v = v * 256 + data[o + k]!;
    return v;
  };
  const test = (q: Pred): boolean => {
    switch (q.k) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !test(q.a);
      case 'and':
        return test(q.a) && test(q.b);
      case 'or':
        return test(q.a) || test(q.b);
      case 'set':
        vars.set(q.id, val(q.v));
        return true;
      case 'cmp': {
        const a = val(q.a);
        const b = val(q.b);
        switch (q.op) {
          case 'eq': return a === b;
          case 'ne': return a !== b;
          case 'gt': return a > b;
          case 'ge': return a >= b;
          case 'lt': return a < b;
          case 'le': return a <= b;
          case 'set': return (a & b) !== 0;
        }
      }
    }
  };
  try {
    return { accept: test(p), oob: false };
  } catch (e) {
    if (e instanceof Stop) return { accept: false, oob: e.oob };
    throw e;
  }
}
