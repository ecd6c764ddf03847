import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter } from '../../src/net/filter/parser.js';
import { tokenize, parseNumber } from '../../src/net/filter/lexer.js';
import { parseIPv6 } from '../../src/output/inet.js';
import { FilterSyntaxError } from '../../src/net/filter/error.js';
import { compileFilter, fileFilter } from '../../src/net/filter/compile.js';
import type { Expr } from '../../src/net/filter/ast.js';

/** A compact rendering of the tree: qualifiers and ids, 'and'/'or'/'not' as prefix forms. */
function show(e: Expr | undefined): string {
  if (!e) return '()';
  switch (e.kind) {
    case 'and':
    case 'or':
      return `(${e.kind} ${show(e.left)} ${show(e.right)})`;
    case 'not':
      return `(not ${show(e.operand)})`;
    case 'primitive':
      return `[${[e.qual.proto, e.qual.dir, e.qual.type].filter(Boolean).join(' ')} ${e.id.text}${e.id.kind === 'addr4' || e.id.kind === 'addr6' ? (e.id.prefix !== undefined ? `/${e.id.prefix}` : '') : ''}]`;
    case 'proto':
      return e.proto;
    case 'relation':
      return `(${e.op} …)`;
    case 'encap':
      return `${e.encap}${e.id !== undefined ? ` ${e.id}` : ''}`;
    case 'llc':
      return `llc${e.subtype ? ` ${e.subtype}` : ''}`;
    case 'byte':
      return `byte ${e.index} ${e.op} ${e.value}`;
    case 'ifindex':
      return `ifindex ${e.value}`;
    case 'length':
      return `len${e.op}${e.value}`;
    case 'direction':
      return e.outbound ? 'outbound' : 'inbound';
    default:
      return `${e.proto ?? ''}${e.kind}`;
  }
}

test('and/or have equal precedence, left to right; not binds tightest', () => {
  assert.equal(show(parseFilter('tcp or udp and icmp')), '(and (or tcp udp) icmp)');
  assert.equal(show(parseFilter('tcp and udp or icmp')), '(or (and tcp udp) icmp)');
  assert.equal(show(parseFilter('not tcp and udp')), '(and (not tcp) udp)');
  assert.equal(show(parseFilter('! (tcp || udp) && ip')), '(and (not (or tcp udp)) ip)');
  assert.equal(show(parseFilter('')), '()');
  assert.equal(show(parseFilter('   ')), '()');
});

test('an id without qualifiers repeats the last ones', () => {
  assert.equal(show(parseFilter('host 10.0.0.1 or 10.0.0.2')), '(or [host 10.0.0.1] [host 10.0.0.2])');
  assert.equal(show(parseFilter('tcp dst port 80 or 443 and 8080')), '(and (or [tcp dst port 80] [tcp dst port 443]) [tcp dst port 8080])');
  assert.equal(show(parseFilter('not host 1.2.3.4 and 5.6.7.8')), '(and (not [host 1.2.3.4]) [host 5.6.7.8])');
  assert.equal(show(parseFilter('host 1.1.1.1 and (port 80 or 443)')), '(and [host 1.1.1.1] (or [port 80] [port 443]))');
  assert.equal(show(parseFilter('host 1.1.1.1 and not 2.2.2.2')), '(and [host 1.1.1.1] (not [host 2.2.2.2]))');
});

test('qualifiers, addresses, nets and special primitives', () => {
  assert.equal(show(parseFilter('src or dst host fe80::1')), '[src or dst host fe80::1]');
  assert.equal(show(parseFilter('src and dst net 10.0.0.0/8')), '[src and dst net 10.0.0.0/8]');
  assert.equal(show(parseFilter('ip6 net 2001:db8::/32')), '[ip6 net 2001:db8::/32]');
  assert.equal(show(parseFilter('ether src 00:11:22:33:44:55')), '[ether src 00:11:22:33:44:55]');
  assert.equal(show(parseFilter('ip proto \\tcp')), '[ip proto tcp]');
  assert.equal(show(parseFilter('portrange 1000-2000')), '[portrange 1000-2000]');
  assert.equal(show(parseFilter('vlan 100 and vlan')), '(and vlan 100 vlan)');
  assert.equal(show(parseFilter('greater 100 or less 60')), '(or len>=100 len<=60)');
  assert.equal(show(parseFilter('ether broadcast or ip multicast or broadcast')), '(or (or etherbroadcast ipmulticast) broadcast)');
  assert.equal(show(parseFilter('(ip[0] & 0xf) > 5 or (tcp)')), '(or (> …) tcp)');
  const net = parseFilter('net 10.0.0.0 mask 255.0.0.0');
  assert.ok(net?.kind === 'primitive' && net.id.kind === 'addr4' && net.id.mask === '255.0.0.0');
});

test('arithmetic: precedence, sizes and constants', () => {
  const e = parseFilter('tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn + 1 * 2');
  assert.ok(e?.kind === 'relation');
  assert.equal(e.op, '=');
  assert.equal(e.left.kind, 'binary');
  assert.ok(e.right.kind === 'binary' && e.right.op === '+' && e.right.right.kind === 'binary' && e.right.right.op === '*');
  const l = parseFilter('ether[0:4] != 0xffffffff');
  assert.ok(l?.kind === 'relation' && l.left.kind === 'load' && l.left.size === 4 && l.right.kind === 'const' && l.right.value === 0xffffffff);
  // '^' takes everything on its right, as in libpcap's grammar
  const x = parseFilter('ip[0] ^ 1 & 3 = 0');
  assert.ok(x?.kind === 'relation' && x.left.kind === 'binary' && x.left.op === '^' && x.left.right.kind === 'binary' && x.left.right.op === '&');
});

test('lexer: numbers, addresses and escapes', () => {
  assert.equal(parseNumber('0x50'), 80);
  assert.equal(parseNumber('0120'), 80);
  assert.equal(parseNumber('80'), 80);
  assert.equal(parseNumber('4294967296'), undefined);
  assert.deepEqual(tokenize('ether[0:4]').map((t) => `${t.kind}:${t.text}`), ['name:ether', 'op:[', 'num:0', 'op::', 'num:4', 'op:]', 'eof:']);
  assert.deepEqual(tokenize('host ::1').map((t) => t.kind), ['name', 'addr6', 'eof']);
  assert.deepEqual(tokenize('\\tcp icmp-echo 10.1').map((t) => [t.kind, t.text, t.escaped ?? false]), [['name', 'tcp', true], ['num', 'icmp-echo', false], ['addr4', '10.1', false], ['eof', '', false]]);
  assert.deepEqual([...parseIPv6('::ffff:1.2.3.4')!].slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  assert.equal(parseIPv6('1::2::3'), undefined);
  assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), undefined);
});

/** [expression, 1-based column of the caret, message pattern] */
const ERRORS: [string, number, RegExp][] = [
  ['tcp and 80', 9, /needs a qualifier/],
  ['host', 5, /expected an address/],
  ['port 80 )', 9, /unbalanced '\)'/],
  ['(tcp', 5, /missing \)/],
  ['ip[0:3] = 1', 6, /data size must be 1, 2, or 4/],
  ['ip[0] = ', 9, /ends too early/],
  ['tcp port 80 or', 15, /ends too early/],
  ['ip[0] > 1 $', 11, /unexpected character '\$'/],
  ['ip[0 = 1', 6, /missing \]/],
  ['host 10.0.0.1 foo', 15, /unexpected 'foo'/],
  ['net 10.0.0.1/8', 5, /non-network bits set/],
  ['port 99999', 6, /illegal port number 99999 > 65535/],
  ['tcp port ntp', 10, /port 'ntp' is udp/],
  ['port nosuchservice', 6, /unknown port 'nosuchservice'/],
  ['host example.com', 6, /cannot resolve host name/],
  ['ether host 10.0.0.1', 12, /illegal link layer address/],
  ['ip6 host 10.0.0.1', 1, /'ip6' modifier applied to ip host/],
  ['ip host fe80::1', 1, /'ip' modifier applied to ip6 host/],
  ['ip[0] / 0 = 1', 7, /division by zero/],
  ['ip[0] >> 33 = 1', 7, /shift by more than 31/],
  ['ip6 broadcast', 1, /broadcast/],
  ['gateway 10.0.0.1', 1, /not supported/],
  ['vlan 5000', 6, /VLAN tag 5000 greater than maximum 4095/],
  ['udp portrange a-b', 15, /unknown port in range 'a-b'/],
  ['ip proto \\nosuch', 10, /unknown ip proto 'nosuch'/],
  ['len = 123abc', 7, /unknown name '123abc'/],
  ['tcp[tcpflags] & tcp-bogus != 0', 17, /unknown name 'tcp-bogus'/],
  ['ip6 net fe80::/200', 9, /mask length must be <= 128/],
  ['host 10.0.0.1 and', 18, /ends too early/],
  ['tcp and inbound', 9, /inbound\/outbound not supported on Ethernet when reading savefiles/],
];

test('errors point at the offending token with a column and caret', () => {
  for (const [expr, column, re] of ERRORS) {
    assert.throws(() => compileFilter(expr), (e: unknown) => {
      assert.ok(e instanceof FilterSyntaxError, `${expr}: ${String(e)}`);
      assert.match(e.reason, re, expr);
      assert.equal(e.column + 1, column, `${expr}: column (${e.message})`);
      const lines = e.message.split('\n');
      assert.equal(lines[1], `  ${expr}`);
      assert.equal(lines[2]!.indexOf('^'), column + 1, `${expr}: caret`);
      return true;
    });
  }
});

test('inbound/outbound compile for live captures only', () => {
  assert.ok(compileFilter('inbound and tcp', { live: true }).insns.length > 3);
  assert.throws(() => compileFilter('outbound'), FilterSyntaxError);
});

test('fuzz: random token soups compile or fail with a FilterSyntaxError, never anything else', () => {
  const words = ['host', 'net', 'port', 'portrange', 'src', 'dst', 'and', 'or', 'not', '!', '(', ')', '[', ']', ':', 'tcp', 'udp', 'ip', 'ip6', 'ether', 'arp',
    'vlan', 'len', 'greater', 'less', '10.0.0.1', '10.0.0.0/8', 'fe80::1', '80', '0x10', '1-2', '=', '!=', '>', '&', '|', '+', '-', '*', '/', '%', '<<', '>>', '^',
    'tcpflags', 'tcp-syn', 'proto', '\\tcp', 'broadcast', 'multicast', 'mask', '255.0.0.0', '00:11:22:33:44:55', 'icmp', 'icmp6', '&&', '||', 'http'];
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let ok = 0;
  for (let k = 0; k < 4000; k++) {
    const n = 1 + rand(8);
    const expr = Array.from({ length: n }, () => words[rand(words.length)]).join(rand(4) ? ' ' : '');
    try {
      const f = compileFilter(expr);
      assert.ok(f.insns.length > 0);
      fileFilter(f); // the VM's verifier accepts everything codegen emits
      compileFilter(expr, { live: true });
      ok++;
    } catch (e) {
      if (!(e instanceof FilterSyntaxError)) throw new Error(`'${expr}' threw ${String(e)}`);
    }
  }
  assert.ok(ok > 100, `only ${ok} of the random expressions compiled`);
  // random characters
  for (let k = 0; k < 2000; k++) {
    const s = Array.from({ length: rand(20) }, () => String.fromCharCode(32 + rand(95))).join('');
    try {
      compileFilter(s);
    } catch (e) {
      if (!(e instanceof FilterSyntaxError)) throw new Error(`'${s}' threw ${String(e)}`);
    }
  }
});
