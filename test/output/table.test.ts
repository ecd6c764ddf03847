import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pad, padCut, Table, cString, clockTime } from '../../src/output/table.js';
import { toJson, JsonLines } from '../../src/output/json.js';
import { formatIPv4 as ipv4String, formatIPv6 as ipv6String, formatInet as inetString } from '../../src/output/inet.js';

test('pad and padCut behave like printf %-Ns, %Ns and %-N.Ns', () => {
  assert.equal(pad('PID', 6), 'PID   ');
  assert.equal(pad(42, 5, 'right'), '   42');
  assert.equal(pad('toolongvalue', 4), 'toolongvalue');
  assert.equal(padCut('a-very-long-command', 12), 'a-very-long-');
  assert.equal(padCut('ab', 12, 12), 'ab          ');
});

test('Table lines up headers and rows, leaves the last left column unpadded', () => {
  const t = new Table<{ pid: number; comm: string; path: string }>([
    { header: 'PID', width: 6, value: (r) => r.pid },
    { header: 'COMM', width: 16, precision: 16, value: (r) => r.comm },
    { header: 'PATH', width: 0, value: (r) => r.path },
  ]);
  assert.equal(t.header(), 'PID    COMM             PATH');
  assert.equal(t.row({ pid: 7, comm: 'cat-with-a-long-name', path: '/etc/passwd' }), '7      cat-with-a-long- /etc/passwd');
});

test('cString stops at the first NUL', () => {
  assert.equal(cString(new Uint8Array([104, 105, 0, 120])), 'hi');
  assert.equal(cString('abc\0\0'), 'abc');
  assert.equal(cString(new Uint8Array([0])), '');
  assert.match(clockTime(new Date(2020, 0, 1, 3, 4, 5)), /^03:04:05$/);
});

test('toJson keeps 64-bit values: safe bigints as numbers, large ones as strings', () => {
  assert.equal(toJson({ a: 5n, b: 1n << 60n, c: new Uint8Array([1, 2]) }), '{"a":5,"b":"1152921504606846976","c":[1,2]}');
  const lines: string[] = [];
  const sink = new JsonLines<{ pid: number }>((l) => lines.push(l));
  sink.event({ pid: 1 });
  sink.aggregation('hist', { slots: [1, 2] });
  sink.lost(3n);
  assert.deepEqual(lines, ['{"pid":1}\n', '{"type":"aggregation","name":"hist","data":{"slots":[1,2]}}\n', '{"type":"lost","lost":3}\n']);
});

test('addresses print as inet_ntop prints them', () => {
  assert.equal(ipv4String([127, 0, 0, 1]), '127.0.0.1');
  const v6 = (s: number[]) => ipv6String(new Uint8Array(s));
  assert.equal(v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), '::1');
  assert.equal(v6(new Array(16).fill(0)), '::');
  assert.equal(v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), '2001:db8::1:0:0:1');
  assert.equal(v6([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1]), '2001:db8:1:0:1:1:1:1');
  assert.equal(v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7]), '::ffff:10.0.0.7');
  assert.equal(v6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0xab, 0xcd]), 'fe80::1234:0:0:abcd');
  assert.equal(inetString(2, new Uint8Array([10, 1, 2, 3, 9, 9])), '10.1.2.3');
});
