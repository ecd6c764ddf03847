import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KernelSymbols } from '../../src/tools/common/ksyms.js';

const SAMPLE = `ffffffff81000000 T _stext
ffffffff81001000 t helper_fn
ffffffff81002000 D some_data
ffffffff81003000 T tcp_v4_connect
garbage line
ffffffffc0000000 t mod_fn\t[e1000]
ffffffff81000000 T
`;

test('kallsyms text: sorted, text symbols only by default, address -> symbol+offset', () => {
  const k = KernelSymbols.parse(SAMPLE);
  assert.equal(k.symbols.length, 4);
  assert.equal(k.format(0xffffffff81003010n), 'tcp_v4_connect+0x10');
  assert.equal(k.format(0xffffffff81001fffn), 'helper_fn+0xfff');
  // data is skipped by default, so the address lands in the previous text symbol
  assert.equal(k.resolve(0xffffffff81002004n)?.name, 'helper_fn');
  assert.equal(k.format(0xffffffffc0000004n), 'mod_fn+0x4 [e1000]');
  assert.equal(k.format(0xffffffffc0000004n, false), 'mod_fn [e1000]');
  assert.equal(k.resolve(0x1000n), undefined);
  assert.equal(k.format(0x1000n), '0x1000');
  assert.equal(k.addressOf('tcp_v4_connect'), 0xffffffff81003000n);
  assert.equal(KernelSymbols.parse(SAMPLE, { textOnly: false }).resolve(0xffffffff81002004n)?.name, 'some_data');
});

test('zeroed addresses (no CAP_SYSLOG) are reported unusable and resolve nothing', () => {
  const k = KernelSymbols.parse('0000000000000000 T a\n0000000000000000 T b\n');
  assert.equal(k.usable, false);
  assert.equal(k.resolve(0x10n), undefined);
});

test('arbitrary and truncated input never throws', () => {
  let seed = 1;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < 500; i++) {
    const cut = SAMPLE.slice(0, Math.floor(rnd() * SAMPLE.length));
    const noise = Array.from({ length: 64 }, () => String.fromCharCode(32 + Math.floor(rnd() * 95))).join('');
    const k = KernelSymbols.parse(cut + noise);
    k.resolve(BigInt(Math.floor(rnd() * 2 ** 48)));
  }
  assert.equal(KernelSymbols.parse('').resolve(1n), undefined);
});

test('the live /proc/kallsyms resolves kernel functions', (t) => {
  const text = readFileSync('/proc/kallsyms', 'utf8');
  const k = KernelSymbols.parse(text);
  if (!k.usable) return t.skip('kallsyms addresses are hidden (kptr_restrict or not root)');
  const addr = k.addressOf('tcp_v4_connect');
  assert.ok(addr, 'tcp_v4_connect in kallsyms');
  assert.equal(k.format(addr + 3n), 'tcp_v4_connect+0x3');
  assert.ok(k.symbols.length > 10000);
});
