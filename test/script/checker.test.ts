// The checker without a kernel: tracepoint formats and BTF come from text and bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from '../../src/script/parser.js';
import { check, type CheckEnv } from '../../src/script/checker/checker.js';
import { generate } from '../../src/script/codegen/unit.js';
import { ScriptError } from '../../src/script/error.js';
import { parseFormat, renderFormat } from '../../src/script/format.js';
import { formatInet } from '../../src/script/output.js';
import { parseBtf } from '../../src/btf/parse.js';
import type { Btf } from '../../src/btf/btf.js';
import { MAX_BPF_STACK } from '../../src/isa/opcodes.js';

const SOCK_FORMAT = `name: inet_sock_set_state
ID: 2287
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:const void * skaddr;	offset:8;	size:8;	signed:0;
	field:int oldstate;	offset:16;	size:4;	signed:1;
	field:int newstate;	offset:20;	size:4;	signed:1;
	field:__u16 sport;	offset:24;	size:2;	signed:0;
	field:__u16 dport;	offset:26;	size:2;	signed:0;
	field:__u16 family;	offset:28;	size:2;	signed:0;
	field:__u16 protocol;	offset:30;	size:2;	signed:0;
	field:__u8 saddr[4];	offset:32;	size:4;	signed:0;
	field:__u8 daddr[4];	offset:36;	size:4;	signed:0;
	field:__u8 saddr_v6[16];	offset:40;	size:16;	signed:0;
	field:__u8 daddr_v6[16];	offset:56;	size:16;	signed:0;

print fmt: "family=%s"
`;

let btf: Btf | undefined;
const env = (o: Partial<CheckEnv> = {}): CheckEnv => ({
  tracepointFormat: (c, e) => (c === 'sock' && e === 'inet_sock_set_state' ? SOCK_FORMAT : undefined),
  btf: () => {
    if (!btf && existsSync('/sys/kernel/btf/vmlinux')) btf = parseBtf(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
    return btf;
  },
  params: [],
  unsafe: false,
  arch: 'x64',
  ...o,
});

function checkErr(src: string, e: CheckEnv = env()): ScriptError {
  try {
    const c = check(parse(src), e, src);
    generate(c, { startNs: 0n, params: [] });
  } catch (x) {
    assert.ok(x instanceof ScriptError, `expected ScriptError, got ${x}`);
    return x;
  }
  assert.fail(`no error for: ${src}`);
}

test('type errors point at the expression, with bpftrace wording', () => {
  assert.equal(checkErr('BEGIN { foo() }').message, 'stdin:1:9-12: ERROR: Unknown function: foo\nBEGIN { foo() }\n        ~~~');
  assert.equal(checkErr('BEGIN { $x = "a"; $x = 1 }').message,
    "stdin:1:22-23: ERROR: Type mismatch for $x: trying to assign value of type 'int64' when variable already contains a value of type 'string[2]'\nBEGIN { $x = \"a\"; $x = 1 }\n                     ~");
  assert.match(checkErr('BEGIN { printf("%d %d\\n", 1) }').message, /printf: Expected 2 arguments for the format string, 1 provided/);
  assert.match(checkErr('BEGIN { printf("%d\\n", "s") }').message, /%d specifier expects a value of type integer/);
  assert.match(checkErr('BEGIN { @x = count(); @x = 1 }').message, /Type mismatch for @x/);
  assert.match(checkErr('BEGIN { @x[1] = 1; @x["a"] = 1 }').message, /Argument mismatch for @x/);
  assert.match(checkErr('BEGIN { print($nope) }').message, /Undefined or undeclared variable: \$nope/);
  assert.match(checkErr('BEGIN { count() }').message, /count\(\) should be assigned to a map/);
  assert.match(checkErr('BEGIN { system("ls") }').message, /unsafe/);
  assert.match(checkErr('BEGIN { break }').message, /outside of a loop/);
  assert.match(checkErr('BEGIN { @l = lhist(1, 10, 5, 1) }').message, /max must be greater than min/);
  assert.match(checkErr('kprobe:f { print(args->x) }').message, /args builtin can only be used with tracepoint/);
  assert.match(checkErr('BEGIN { print(retval) }').message, /retval builtin can only be used/);
  assert.match(checkErr('tracepoint:sock:nope { }').message, /tracepoint not found: sock:nope/);
  const e = checkErr('tracepoint:sock:inet_sock_set_state {\n  printf("%d\\n", args->nosuch)\n}');
  assert.equal(e.line, 2);
  assert.match(e.message, /does not contain a field named 'nosuch'/);
  assert.match(checkErr('bogus:x { }').message, /Invalid probe type: bogus/);
  assert.match(checkErr('interval:parsecs:1 { }').message, /unknown unit/);
});

test('args->field types from the tracepoint format; the seed one-liner checks and compiles', () => {
  const src = 'tracepoint:sock:inet_sock_set_state /args->newstate == 2/ { printf("PID %d -> %s:%d\\n", pid, ntop(args->daddr), args->dport) }';
  const c = check(parse(src), env(), src);
  const u = c.units[0]!;
  const types = [...u.argFields.entries()].map(([x, f]) => `${f.name}:${JSON.stringify(u.types.get(x))}`);
  assert.deepEqual(types.sort(), [
    'daddr:{"k":"array","elem":{"k":"int","size":1,"signed":false},"len":4}',
    'dport:{"k":"int","size":2,"signed":false}',
    'newstate:{"k":"int","size":4,"signed":true}',
  ]);
  const [prog] = generate(c, { startNs: 0n, params: [] });
  assert.ok(prog!.insns.length > 10 && prog!.insns.length < 200, `${prog!.insns.length} instructions`);
  assert.ok(prog!.stackSize <= MAX_BPF_STACK);
  assert.deepEqual([...new Set(prog!.mapRefs.map((r) => r.map))], ['events']);
  // every instruction is attributed to a span of the script
  assert.ok(prog!.spans.every((s) => s !== undefined));
});

test('BTF casts and member access resolve offsets through anonymous members', (t) => {
  if (!env().btf()) return t.skip('no kernel BTF');
  const src = 'kprobe:tcp_connect { $sk = (struct sock *)arg0; printf("%s %d\\n", ntop($sk->__sk_common.skc_daddr), $sk->__sk_common.skc_dport) }';
  const c = check(parse(src), env(), src);
  const offs = [...c.units[0]!.fieldOffsets.values()];
  assert.ok(offs.includes(0), 'struct sock starts with __sk_common');
  assert.equal(offs.length, 4);
  assert.match(checkErr('kprobe:f { $x = ((struct sock *)arg0)->nosuch }').message, /Struct\/union of type 'struct sock' does not contain a field named 'nosuch'/);
  assert.match(checkErr('kprobe:f { $x = (struct nosuchstruct *)arg0 }').message, /Unknown type: struct nosuchstruct/);
});

test('stack budget: too many large strings is a clear error, not a verifier failure', () => {
  const big = Array.from({ length: 10 }, () => 'str(arg0)').join(', ');
  assert.match(checkErr(`kprobe:f { printf("${'%s'.repeat(10)}", ${big}) }`).message, /more than 512 bytes of BPF stack/);
});

test('printf conversions render like C printf (32-bit without l, 64 with l)', () => {
  const f = (fmt: string, ...v: (bigint | string)[]): string => renderFormat(parseFormat(fmt), v);
  assert.equal(f('%d|%u|%x|%X|%o|%c', -1n, -1n, 255n, 255n, 8n, 65n), '-1|4294967295|ff|FF|10|A');
  assert.equal(f('%ld|%lu|%llx', -1n, -1n, -1n), '-1|18446744073709551615|ffffffffffffffff');
  assert.equal(f('[%5d][%-5d][%05d][%-10s][%10s][%.2s]', 42n, 42n, 42n, 'ab', 'cd', 'xyz'), '[   42][42   ][00042][ab        ][        cd][xy]');
  assert.equal(f('100%% %s', 'ok'), '100% ok');
  assert.throws(() => parseFormat('%q'), /invalid format specifier/);
});

test('ntop formatting: IPv4, IPv6 with zero compression, v4-mapped', () => {
  assert.equal(formatInet(2, new Uint8Array([93, 184, 216, 34])), '93.184.216.34');
  const v6 = new Uint8Array(16);
  v6[0] = 0x20; v6[1] = 0x01; v6[2] = 0x0d; v6[3] = 0xb8; v6[15] = 1;
  assert.equal(formatInet(10, v6), '2001:db8::1');
  assert.equal(formatInet(10, new Uint8Array(16)), '::');
  const mapped = new Uint8Array(16);
  mapped[10] = 0xff; mapped[11] = 0xff; mapped.set([10, 0, 0, 1], 12);
  assert.equal(formatInet(10, mapped), '::ffff:10.0.0.1');
});
