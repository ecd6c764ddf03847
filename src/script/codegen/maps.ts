// Script maps in the program: keys built on the stack, lookups (absent reads as 0), updates, ++/--
// on map values, compound assignment, and aggregation (builtins/aggregations.ts says how each one
// folds a value in).
import { FP, R0, R1, R2, R3, R4, imm } from '../../isa/builder.js';
import type { CallExpr, Expr, MapExpr, Pos } from '../ast.js';
import { AGGREGATIONS } from '../builtins/aggregations.js';
import type { GenContext } from '../builtins/context.js';
import { mapLayout, mapName } from '../maps.js';
import { align8, sizeOf, type MapInfo, type SType } from '../types.js';
import { binop } from './operators.js';

const info = (g: GenContext, name: string): MapInfo => g.c.maps.get(name)!;

/** Build a map's key on the stack (zeroed, then each key at its 8-aligned place); returns its offset. */
export function mapKey(g: GenContext, m: MapExpr): number {
  const i = info(g, m.name);
  const lay = mapLayout(i);
  const off = g.alloc(lay.keySize, m.pos);
  g.zero(off, lay.keySize);
  let at = off;
  m.keys.forEach((k, n) => {
    g.into(k, at, i.keys[n]!);
    at += align8(sizeOf(i.keys[n]!));
  });
  return off;
}

/** r1 = the map, r2 = fp + key: the first two arguments of every map helper. */
function mapArgs(g: GenContext, map: string, key: number): void {
  g.b.ldMap(R1, mapName(map)).mov64(R2, FP).add64(R2, imm(key));
}

/** r0 = the u64 at the start of the value for `key`, or 0 if absent. */
export function lookupOrZero(g: GenContext, map: string, key: number): void {
  const none = g.b.newLabel('absent');
  mapArgs(g, map, key);
  g.b.call('map_lookup_elem').jmp('==', R0, imm(0), none).ldx('u64', R0, R0, 0).label(none);
}

/** map[key] = the value at fp+val. */
export function update(g: GenContext, map: string, key: number, val: number): void {
  mapArgs(g, map, key);
  g.b.mov64(R3, FP).add64(R3, imm(val)).mov64(R4, imm(0)).call('map_update_elem');
}

/** The value of map[key] (zero if absent) written at fp+off, `size` bytes. */
export function valueInto(g: GenContext, m: MapExpr, off: number, size: number): void {
  const key = mapKey(g, m);
  const none = g.b.newLabel('absent');
  g.zero(off, size);
  mapArgs(g, m.name, key);
  g.b.call('map_lookup_elem').jmp('==', R0, imm(0), none);
  const n = Math.min(size, mapLayout(info(g, m.name)).valueSize);
  for (let i = 0; i < n; i += 8) g.b.ldx('u64', R1, R0, i).stx('u64', FP, R1, off + i);
  g.b.label(none);
}

/** `@m[k] op= value` of a map of values. */
export function assign(g: GenContext, target: MapExpr, op: string, value: Expr): void {
  const i = info(g, target.name);
  if (value.kind === 'call' && i.value.kind === 'agg' && op === '=') return aggregate(g, target, value);
  const b = g.b;
  const vt = (i.value as { type: SType }).type;
  const lay = mapLayout(i);
  const val = g.alloc(lay.valueSize, value.pos);
  g.zero(val, lay.valueSize);
  if (op === '=') g.into(value, val, vt);
  else {
    g.scalar(value);
    b.stx('u64', FP, R0, val);
  }
  const key = mapKey(g, target);
  if (op !== '=') {
    lookupOrZero(g, target.name, key);
    b.ldx('u64', R1, FP, val);
    binop(g, op.slice(0, -1), vt.k === 'int' && vt.signed);
    b.stx('u64', FP, R0, val);
  }
  update(g, target.name, key, val);
}

/** `@m[k]++` and friends: r0 = the value before (postfix) or after (prefix). */
export function incdec(g: GenContext, target: MapExpr, d: 1 | -1, prefix: boolean, pos: Pos): void {
  const key = mapKey(g, target);
  const val = g.alloc(8, pos);
  lookupOrZero(g, target.name, key);
  g.b.add64(R0, imm(d)).stx('u64', FP, R0, val);
  update(g, target.name, key, val);
  g.b.ldx('u64', R0, FP, val);
  if (!prefix) g.b.sub64(R0, imm(d));
}

/** `@m[k] = count()` ...: fold the value into the per-CPU value, or create it. */
function aggregate(g: GenContext, target: MapExpr, call: CallExpr): void {
  const b = g.b;
  const i = info(g, target.name);
  const spec = i.value as Extract<MapInfo['value'], { kind: 'agg' }>;
  const agg = AGGREGATIONS.get(spec.agg)!;
  const lay = mapLayout(i);
  const v = g.alloc(8, call.pos);
  if (call.args.length) g.scalar(call.args[0]!);
  else b.movImm(R0, 1);
  b.stx('u64', FP, R0, v);
  const key = mapKey(g, target);
  if (agg.bucketed) {
    // the bucket is the last word of the key; what the bucket counts is 1
    b.ldx('u64', R1, FP, v);
    agg.bucket!(g, spec.lhist);
    b.stx('u64', FP, R0, key + lay.keySize - 8).mov64(R0, imm(1)).stx('u64', FP, R0, v);
  }
  const init = b.newLabel('init');
  const done = b.newLabel('folded');
  mapArgs(g, target.name, key);
  b.call('map_lookup_elem').jmp('==', R0, imm(0), init).ldx('u64', R2, FP, v);
  agg.fold(g, done);
  b.ja(done).label(init);
  const val = g.alloc(lay.valueSize, call.pos);
  b.ldx('u64', R1, FP, v);
  agg.init(g, val);
  update(g, target.name, key, val);
  b.label(done);
}
