// The id of a qualified primitive, with libpcap's suffixes: `10.0.0.0/8`, `10.0 mask 255.255`,
// `fe80::/10`. A bare dotted address may be partial (`10.1`): lower.ts gives it libpcap's meaning.
import type { Id } from './ast.js';
import { FilterSyntaxError } from './error.js';
import type { Token } from './lexer.js';

/** The id starting at toks[i]; `next` is the index of the first token after it. */
export function idFromTokens(toks: readonly Token[], i: number, src: string): { id: Id; next: number } {
  const t = toks[i]!;
  const error = (reason: string, at: Token): FilterSyntaxError => new FilterSyntaxError(reason, src, at.pos, Math.max(1, at.text.length));
  const isOp = (k: number, text: string): boolean => toks[k]!.kind === 'op' && toks[k]!.text === text;
  const prefix = (k: number): number => {
    const n = toks[k]!;
    if (n.kind !== 'num') throw error(`expected a prefix length after '/', found '${n.text || 'end of expression'}'`, n);
    return n.value!;
  };
  switch (t.kind) {
    case 'num':
      return { id: { kind: 'num', value: t.value!, pos: t.pos, text: t.text }, next: i + 1 };
    case 'addr4': {
      if (isOp(i + 1, '/')) return { id: { kind: 'addr4', text: t.text, pos: t.pos, prefix: prefix(i + 2) }, next: i + 3 };
      const m = toks[i + 1]!;
      if (m.kind === 'name' && !m.escaped && m.text === 'mask') {
        const mask = toks[i + 2]!;
        if (mask.kind !== 'addr4') throw error('expected a netmask like 255.255.0.0 after mask', mask);
        return { id: { kind: 'addr4', text: t.text, pos: t.pos, mask: mask.text }, next: i + 3 };
      }
      return { id: { kind: 'addr4', text: t.text, pos: t.pos }, next: i + 1 };
    }
    case 'addr6':
      if (isOp(i + 1, '/')) return { id: { kind: 'addr6', text: t.text, pos: t.pos, prefix: prefix(i + 2) }, next: i + 3 };
      return { id: { kind: 'addr6', text: t.text, pos: t.pos }, next: i + 1 };
    case 'mac':
      return { id: { kind: 'mac', text: t.text, pos: t.pos }, next: i + 1 };
    case 'name':
      return { id: { kind: 'name', text: t.text, pos: t.pos }, next: i + 1 };
    default:
      throw error(`expected an address, number or name, found '${t.text}'`, t);
  }
}
