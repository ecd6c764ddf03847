// The kernel matrix's own parts, without booting anything: the initramfs archive (read back by
// busybox's cpio, as the kernel's unpacker reads the same format), the TAP summary the host reads
// from a guest, and the bzImage extractor's answers to files that are not kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCpio } from './cpio.js';
import { parseTap } from './tap.js';
import { extractVmlinux } from './vmlinux.js';
import { needsCommand } from '../helpers/kernel.js';

test('the initramfs archive lists back with busybox cpio: names, modes, contents', (t) => {
  if (!needsCommand(t, 'busybox')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cpio-'));
  try {
    const archive = writeCpio([
      { name: 'bin', mode: 0o40755 },
      { name: 'bin/hello', mode: 0o100755, data: Buffer.from('#!/bin/sh\necho hi\n') },
      { name: 'odd', mode: 0o100644, data: Buffer.from('x') }, // 1 byte: padding after the data
    ]);
    writeFileSync(join(dir, 'a.cpio'), archive);
    const list = execFileSync('busybox', ['cpio', '-tv', '-F', join(dir, 'a.cpio')], { encoding: 'utf8' });
    assert.match(list, /^drwxr-xr-x .* bin$/m);
    assert.match(list, /^-rwxr-xr-x .* 18 .* bin\/hello$/m);
    assert.match(list, /^-rw-r--r-- .* 1 .* odd$/m);
    execFileSync('busybox', ['cpio', '-i', '-d', '-F', join(dir, 'a.cpio')], { cwd: dir });
    assert.equal(execFileSync('cat', [join(dir, 'bin/hello')], { encoding: 'utf8' }), '#!/bin/sh\necho hi\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the TAP summary: counts, and the failed leaf tests named once', () => {
  const tap = [
    'TAP version 13',
    '# Subtest: /x/a.test.js',
    '    # Subtest: one',
    '    ok 1 - one',
    '    # Subtest: two',
    '    not ok 2 - two',
    'not ok 1 - /x/a.test.js',
    '# Subtest: top level',
    'not ok 2 - top level',
    'ok 3 - fine',
    '# tests 4',
    '# pass 2',
    '# fail 2',
    '# skipped 0',
    '# duration_ms 1234.5',
  ].join('\n');
  assert.deepEqual(parseTap(tap), { tests: 4, pass: 2, fail: 2, skipped: 0, durationMs: 1234.5, failures: ['two', 'top level'] });
  assert.deepEqual(parseTap(''), { tests: 0, pass: 0, fail: 0, skipped: 0, durationMs: 0, failures: [] });
});

test('a file that is not a bzImage, or whose payload is not a kernel, is refused with its name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bz-'));
  try {
    writeFileSync(join(dir, 'short'), Buffer.alloc(100));
    assert.throws(() => extractVmlinux(join(dir, 'short'), join(dir, 'out')), /short: not a bzImage/);
    // a boot header whose payload is gzip of something that is not ELF
    const b = Buffer.alloc(0x1000);
    b.writeUInt32LE(0x53726448, 0x202); // "HdrS"
    b[0x1f1] = 1; // setup sectors: payload area from 1024
    const payload = execFileSync('gzip', ['-c'], { input: 'not a kernel' });
    b.writeUInt32LE(0, 0x248);
    b.writeUInt32LE(payload.length, 0x24c);
    payload.copy(b, 1024);
    writeFileSync(join(dir, 'fake'), b);
    assert.throws(() => extractVmlinux(join(dir, 'fake'), join(dir, 'out')), /fake: decompressed payload is not ELF/);
    b.fill(0, 1024, 1024 + payload.length);
    writeFileSync(join(dir, 'fake2'), b);
    assert.throws(() => extractVmlinux(join(dir, 'fake2'), join(dir, 'out')), /fake2: unknown payload compression/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
