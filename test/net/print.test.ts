import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap } from '../../src/net/pcap.js';
import { formatPacket, summary } from '../../src/net/print.js';
import { formatIPv6 } from '../../src/output/inet.js';
import { parseIPv6 } from '../../src/output/inet.js';
import { needsCommand } from '../helpers/kernel.js';
import { corpusPcap } from './corpus.js';

test('IPv6 addresses print in RFC 5952 form', () => {
  for (const [text, want] of [['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['::1', '::1'], ['fe80::', 'fe80::'], ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'], ['::', '::'], ['ff02::fb', 'ff02::fb']]) {
    assert.equal(formatIPv6(parseIPv6(text!)!, 0), want);
  }
});

test('short frames print a truncation mark, never throw', () => {
  assert.equal(summary(new Uint8Array(5)), '[|ether]');
  for (let n = 0; n < 80; n++) summary(new Uint8Array(n).fill(0x45));
});

test('summary lines match tcpdump -n -S for TCP, UDP, ICMP, ICMPv6 and ARP', (t) => {
  if (!needsCommand(t, 'tcpdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-print-'));
  try {
    const file = join(dir, 'c.pcap');
    const bytes = corpusPcap();
    writeFileSync(file, bytes);
    const r = spawnSync('tcpdump', ['-n', '-S', '-r', file], { env: { ...process.env, TZ: 'UTC' } });
    assert.equal(r.status, 0, r.stderr.toString());
    const theirs = r.stdout.toString().trimEnd().split('\n');
    const ours = readPcap(bytes).records.map((p) => formatPacket(p, { utc: true }));
    assert.equal(ours.length, theirs.length);
    // lines tcpdump prints without application-layer decoding must be identical
    const plain = /(Flags \[[^\]]+\].*length \d+$)|(UDP, length \d+$)|(ICMP6?,? echo (request|reply).*length \d+$)|(ARP, (Request|Reply) .* length \d+$)/;
    let compared = 0;
    theirs.forEach((line, i) => {
      if (!plain.test(line)) return;
      compared++;
      assert.equal(ours[i], line, `packet ${i}`);
    });
    assert.ok(compared >= 80, `only ${compared} lines compared`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
