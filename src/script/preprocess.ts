// The C preprocessor's part that bpftrace scripts use (bpftrace runs clang's): `#include` of a file
// found beside the script or in -I directories, `--include` files, `#define` of object-like and
// function-like macros, `#undef`, `#ifdef`/`#ifndef`/`#if 0|1`/`#else`/`#endif`. A system header
// that is not found (`#include <linux/sched.h>`) is dropped: tsbpf takes kernel types from BTF.
// Directive lines become blank lines, so that errors keep the script's line numbers.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PreprocessOptions {
  fileName: string;
  /** --include FILE, read before the script */
  include: string[];
  /** -I DIR */
  dirs: string[];
  /** macros defined before the script, as 1 (bpftrace's BPFTRACE_HAVE_BTF where the kernel has BTF) */
  predefined?: string[];
}

interface Macro {
  params?: string[];
  body: string;
}

export class PreprocessError extends Error {}

export function preprocess(source: string, o: PreprocessOptions): string {
  const macros = new Map<string, Macro>((o.predefined ?? []).map((name) => [name, { body: '1' }]));
  const base = o.fileName === 'stdin' ? process.cwd() : dirname(o.fileName);
  const find = (name: string, local: boolean): string | undefined => {
    for (const d of [...(local ? [base] : []), ...o.dirs]) if (existsSync(join(d, name))) return join(d, name);
    if (name.startsWith('/') && existsSync(name)) return name;
    return undefined;
  };
  const seen = new Set<string>();
  const run = (text: string, depth: number): string[] => {
    if (depth > 32) throw new PreprocessError('#include nested too deeply');
    const out: string[] = [];
    const skip: boolean[] = [];
    const skipping = (): boolean => skip.some((x) => x);
    const lines = joinContinuations(text);
    for (const line of lines) {
      const d = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
      if (!d) {
        out.push(skipping() ? '' : expand(line, macros));
        continue;
      }
      const [, dir, rest] = d as unknown as [string, string, string];
      out.push('');
      switch (dir) {
        case 'ifdef': skip.push(!macros.has(rest.trim())); continue;
        case 'ifndef': skip.push(macros.has(rest.trim())); continue;
        case 'if': skip.push(evalIf(expand(rest, macros)) === 0); continue;
        case 'else': skip.push(!skip.pop()); continue;
        case 'endif': skip.pop(); continue;
      }
      if (skipping()) continue;
      switch (dir) {
        case 'define': {
          const m = /^(\w+)(\(([^)]*)\))?\s*(.*)$/.exec(rest);
          if (!m) throw new PreprocessError(`bad #define: ${line.trim()}`);
          macros.set(m[1]!, { params: m[2] ? m[3]!.split(',').map((p) => p.trim()).filter(Boolean) : undefined, body: m[4]!.trim() });
          break;
        }
        case 'undef': macros.delete(rest.trim()); break;
        case 'include': {
          const m = /^(?:"([^"]+)"|<([^>]+)>)/.exec(rest.trim());
          if (!m) throw new PreprocessError(`bad #include: ${line.trim()}`);
          const path = find(m[1] ?? m[2]!, m[1] !== undefined);
          if (!path || seen.has(path)) break;
          seen.add(path);
          // an included header's own lines come before this one's (the blank line pushed above stays)
          out.push(...run(readFileSync(path, 'utf8'), depth + 1).filter((l) => l.trim()));
          break;
        }
        default: break; // #pragma, #error and the rest: nothing a script needs
      }
    }
    return out;
  };
  const pre = o.include.flatMap((f) => {
    // a header not found here (`--include errno.h`) is a system one: dropped, as #include <...> is
    const p = existsSync(f) ? f : find(f, true);
    if (!p) return [];
    return run(readFileSync(p, 'utf8'), 1).filter((l) => l.trim());
  });
  const body = run(source, 0);
  // included text goes on the first line, so that the script's own lines keep their numbers
  return pre.length ? [pre.join(' ') + ' ' + (body[0] ?? ''), ...body.slice(1)].join('\n') : body.join('\n');
}

function joinContinuations(text: string): string[] {
  const out: string[] = [];
  let acc = '';
  for (const l of text.split('\n')) {
    if (l.endsWith('\\')) {
      acc += l.slice(0, -1);
      out.push('');
      continue;
    }
    out.push(acc + l);
    acc = '';
  }
  // keep the line count: the joined line stands where its last part was
  return out;
}

/** Macros replaced in a line, outside string literals, until none is left (a macro is not expanded in itself). */
function expand(line: string, macros: Map<string, Macro>, active: Set<string> = new Set()): string {
  if (!macros.size) return line;
  let out = '';
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === '"') {
      const m = /^"(?:[^"\\]|\\.)*"?/.exec(line.slice(i))!;
      out += m[0];
      i += m[0].length;
      continue;
    }
    const id = /^[A-Za-z_]\w*/.exec(line.slice(i));
    if (!id || (i > 0 && /[\w$@]/.test(line[i - 1]!))) {
      out += ch;
      i++;
      continue;
    }
    const name = id[0];
    i += name.length;
    const mac = macros.get(name);
    if (!mac || active.has(name)) {
      out += name;
      continue;
    }
    let body = mac.body;
    if (mac.params) {
      const args = callArgs(line, i);
      if (!args) {
        out += name;
        continue;
      }
      i = args.end;
      body = body.replace(/[A-Za-z_]\w*/g, (w) => {
        const k = mac.params!.indexOf(w);
        return k < 0 ? w : (args.args[k] ?? '');
      });
    }
    out += expand(body, macros, new Set([...active, name]));
  }
  return out;
}

function callArgs(line: string, at: number): { args: string[]; end: number } | undefined {
  let i = at;
  while (line[i] === ' ') i++;
  if (line[i] !== '(') return undefined;
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  for (i++; i < line.length; i++) {
    const c = line[i]!;
    if (c === '(') depth++;
    if (c === ')' && depth-- === 0) {
      args.push(cur.trim());
      return { args: args.length === 1 && args[0] === '' ? [] : args, end: i + 1 };
    }
    if (c === ',' && depth === 0) {
      args.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  return undefined;
}

/** `#if EXPR`: numbers and `defined` already expanded are enough for scripts (`#if 0`, `#if 1`). */
function evalIf(expr: string): number {
  const e = expr.replace(/defined\s*\(?\s*\w+\s*\)?/g, '0').trim();
  if (!/^[\d\s()+\-*/<>=!&|]+$/.test(e)) return 0;
  try {
    return Number(Function(`"use strict"; return (${e});`)()) ? 1 : 0;
  } catch {
    return 0;
  }
}
