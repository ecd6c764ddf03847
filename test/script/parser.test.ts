import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseExpression } from '../../src/script/parser.js';
import { ScriptError } from '../../src/script/error.js';
import type { Expr } from '../../src/script/ast.js';

/** An expression as a compact s-expression, to compare tree shapes. */
function sx(e: Expr): string {
  switch (e.kind) {
    case 'int': return String(e.value);
    case 'str': return JSON.stringify(e.value);
    case 'var': return `$${e.name}`;
    case 'map': return `@${e.name}${e.keys.length ? `[${e.keys.map(sx).join(',')}]` : ''}`;
    case 'builtin': case 'ident': return e.name;
    case 'positional': return `$${e.n}`;
    case 'call': return `${e.name}(${e.args.map(sx).join(',')})`;
    case 'binary': return `(${sx(e.left)} ${e.op} ${sx(e.right)})`;
    case 'unary': return `(${e.op}${sx(e.operand)})`;
    case 'ternary': return `(${sx(e.cond)} ? ${sx(e.then)} : ${sx(e.else)})`;
    case 'field': return `${sx(e.object)}${e.arrow ? '->' : '.'}${e.field}`;
    case 'index': return `${sx(e.object)}[${sx(e.index)}]`;
    case 'cast': return `((${e.type.base}${'*'.repeat(e.type.pointers)})${sx(e.operand)})`;
    case 'incdec': return e.prefix ? `${e.op}${sx(e.target)}` : `${sx(e.target)}${e.op}`;
    case 'tuple': return `(${e.elems.map(sx).join(', ')})`;
    case 'sizeof': return `sizeof(${e.type ? e.type.base : sx(e.operand!)})`;
  }
}

function err(src: string): ScriptError {
  try {
    parse(src);
  } catch (e) {
    assert.ok(e instanceof ScriptError, `expected ScriptError, got ${e}`);
    return e;
  }
  assert.fail(`no error for ${src}`);
}

test('the seed one-liner parses to the expected tree', () => {
  const p = parse('tracepoint:sock:inet_sock_set_state /args->newstate == 2/ { printf("PID %d -> %s:%d\\n", pid, ntop(args->daddr), args->dport) }');
  assert.equal(p.probes.length, 1);
  const probe = p.probes[0]!;
  assert.deepEqual(probe.attachPoints.map((a) => a.parts), [['tracepoint', 'sock', 'inet_sock_set_state']]);
  assert.equal(sx(probe.predicate!), '(args->newstate == 2)');
  assert.equal(probe.body.length, 1);
  const st = probe.body[0]!;
  assert.equal(st.kind, 'expr');
  assert.equal(sx((st as { expr: Expr }).expr), 'printf("PID %d -> %s:%d\\n",pid,ntop(args->daddr),args->dport)');
});

test('C precedence and associativity', () => {
  const cases: [string, string][] = [
    ['1 + 2 * 3', '(1 + (2 * 3))'],
    ['1 - 2 - 3', '((1 - 2) - 3)'],
    ['a || b && c', '(a || (b && c))'],
    ['1 << 2 + 3', '(1 << (2 + 3))'],
    ['x & 1 == 0', '(x & (1 == 0))'],
    ['$a > 1 ? "big" : "small"', '(($a > 1) ? "big" : "small")'],
    ['!pid == 0', '((!pid) == 0)'],
    ['-5 * -$x', '(-5 * (-$x))'],
    ['~0x10 | 0b11', '((~16) | 3)'],
    ['@m[pid, comm] + 1', '(@m[pid,comm] + 1)'],
    ['((struct sock *)arg0)->__sk_common.skc_daddr', '((struct sock*)arg0)->__sk_common.skc_daddr'],
    ['(uint32)retval', '((uint32)retval)'],
    ['(unsigned long long)arg1', '((unsigned long long)arg1)'],
    ['*(uint64 *)arg0', '(*((uint64*)arg0))'],
    ['args->filename[3]', 'args->filename[3]'],
    ['(1, "a").1', '(1, "a").1'],
    ['@x++', '@x++'],
    ['--$y', '--$y'],
    ["'A' + 1_000", '(65 + 1000)'],
    ['(pid_t)arg0', '((pid_t)arg0)'],
    ['(nsecs - @start[tid]) / 1000', '((nsecs - @start[tid]) / 1000)'],
    ['sizeof(struct task_struct)', 'sizeof(struct task_struct)'],
  ];
  for (const [src, want] of cases) assert.equal(sx(parseExpression(src)), want, src);
});

test('attach points: lists, wildcards, paths, shorthands', () => {
  const p = parse('uprobe:/bin/bash:readline,kprobe:vfs_* , t:syscalls:sys_enter_* { @[probe] = count() }\ninterval:s:1 { exit(); }');
  assert.deepEqual(p.probes[0]!.attachPoints.map((a) => a.raw), ['uprobe:/bin/bash:readline', 'kprobe:vfs_*', 't:syscalls:sys_enter_*']);
  assert.deepEqual(p.probes[0]!.attachPoints[0]!.parts, ['uprobe', '/bin/bash', 'readline']);
  assert.deepEqual(p.probes[1]!.attachPoints[0]!.parts, ['interval', 's', '1']);
  assert.equal(p.probes[0]!.attachPoints[1]!.pos.line, 1);
  assert.equal(p.probes[1]!.pos.line, 2);
});

test('predicates: slash ends it, division inside parentheses', () => {
  const p = parse('kprobe:f /(arg0 / 2) > 1 && pid != 0/ { }');
  assert.equal(sx(p.probes[0]!.predicate!), '(((arg0 / 2) > 1) && (pid != 0))');
  const q = parse('uprobe:/usr/lib/libc.so.6:malloc /comm == "bash"/ { @[ustack] = count() }');
  assert.equal(sx(q.probes[0]!.predicate!), '(comm == "bash")');
});

test('statements: assignments, compound ops, if/else chains, while, unroll, delete/clear', () => {
  const p = parse(`BEGIN {
    $i = 0; @x += 5; @y[1] <<= 2;
    if ($i > 1) { @a++ } else if ($i) { delete(@y[1]) } else { clear(@y) }
    while ($i < 10) { $i++; if ($i == 5) { break } continue; }
    unroll(3) { $i-- }
    return;
  }`);
  const kinds = p.probes[0]!.body.map((s) => s.kind);
  assert.deepEqual(kinds, ['assign', 'assign', 'assign', 'if', 'while', 'unroll', 'return']);
  const ifs = p.probes[0]!.body[3]!;
  assert.ok(ifs.kind === 'if' && ifs.else?.[0]?.kind === 'if');
});

test('preamble: #include and struct definitions; comments anywhere', () => {
  const p = parse(`#!/usr/bin/env bpftrace
#include <linux/sched.h>
// a comment
struct foo { int a; char b[16]; };
/* block
   comment */ BEGIN { printf("x\\t\\"y\\"\\x41\\101\\n"); } // tail`);
  assert.deepEqual(p.includes, ['#!/usr/bin/env bpftrace', '#include <linux/sched.h>']);
  assert.equal(p.structs[0]!.name, 'struct foo');
  const st = p.probes[0]!.body[0]!;
  assert.ok(st.kind === 'expr' && st.expr.kind === 'call');
  assert.equal((st.expr.args[0] as { value: string }).value, 'x\t"y"AA\n');
});

test('syntax errors say where, with bpftrace layout', () => {
  assert.equal(err('BEGIN { printf("hi" }').message,
    'stdin:1:21-22: ERROR: syntax error, unexpected }, expecting ) or ","\nBEGIN { printf("hi" }\n                    ~');
  const e = err('BEGIN {\n  $x = 1 +;\n}');
  assert.equal(e.line, 2);
  assert.equal(e.column, 11);
  assert.match(e.message, /^stdin:2:11-12: ERROR: syntax error, unexpected ;\n  \$x = 1 \+;\n {10}~$/);
  assert.match(err('BEGIN { "abc }').message, /unterminated string/);
  assert.match(err('BEGIN { 1 = 2 }').message, /can only assign/);
  assert.match(err('BEGIN { 12abc }').message, /invalid number/);
  assert.match(err('BEGIN { ` }').message, /invalid character '`'/);
  assert.match(err('BEGIN { /* x }').message, /unterminated comment/);
  assert.match(err('BEGIN { @x[] = 1 }').message, /empty map key/);
  assert.match(err('').message, /expecting a probe/);
  assert.match(err('BEGIN').message, /unexpected end of file, expecting \{/);
  assert.match(err('BEGIN { if 1 { } }').message, /expecting \(/);
});

test('fuzz: random and truncated input gives ScriptError, never a crash or hang', () => {
  const seeds = [
    'tracepoint:sock:inet_sock_set_state /args->newstate == 2/ { printf("PID %d -> %s:%d\\n", pid, ntop(args->daddr), args->dport) }',
    'kprobe:f { @x[comm] = hist((nsecs - @s[tid]) / 1000); if ($a) { $b = (struct sock *)arg0; } else { clear(@x) } }',
  ];
  let rnd = 12345;
  const next = (): number => (rnd = (rnd * 1103515245 + 12345) & 0x7fffffff);
  const alphabet = '{}()[]/\\"\'@$#:;,.-><=!&|*+%~?^ \n\tabz019_';
  for (const s of seeds) {
    for (let cut = 0; cut <= s.length; cut++) {
      try { parse(s.slice(0, cut)); } catch (e) { assert.ok(e instanceof ScriptError, `${JSON.stringify(s.slice(0, cut))}: ${e}`); }
    }
    for (let n = 0; n < 2000; n++) {
      const chars = s.split('');
      for (let k = 0; k < 3; k++) chars[next() % chars.length] = alphabet[next() % alphabet.length]!;
      const src = chars.join('');
      try { parse(src); } catch (e) { assert.ok(e instanceof ScriptError, `${JSON.stringify(src)}: ${e}`); }
    }
  }
});

test('deep nesting: 500 parentheses (or operators, blocks) are a syntax error at the level too many, not a stack overflow', () => {
  const cases = [
    `BEGIN { $x = ${'('.repeat(500)}1${')'.repeat(500)}; }`,
    `BEGIN { $x = ${'!'.repeat(500)}1; }`,
    `BEGIN { ${'if (1) { '.repeat(500)}$x = 1;${' }'.repeat(500)} }`,
  ];
  for (const src of cases) {
    assert.throws(() => parse(src), (e: unknown) => {
      assert.ok(e instanceof ScriptError, String(e));
      assert.match(e.message, /^stdin:1:\d+-\d+: ERROR: too deeply nested: more than 100 levels of expressions and blocks\n/);
      return true;
    });
  }
  // what people write nests far less, and parses
  assert.doesNotThrow(() => parse(`BEGIN { $x = ${'('.repeat(90)}1${')'.repeat(90)}; }`));
});
