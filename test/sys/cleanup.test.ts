import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup, pendingCleanups, runCleanups } from '../../src/sys/cleanup.js';
import { moduleUrl, runChild } from './child.js';

test('onCleanup: the returned function runs the action once and unregisters it', () => {
  let n = 0;
  const undo = onCleanup('count', () => n++);
  assert.ok(pendingCleanups().includes('count'));
  undo();
  undo();
  assert.equal(n, 1);
  assert.ok(!pendingCleanups().includes('count'));
  const order: string[] = [];
  onCleanup('first', () => order.push('first'));
  onCleanup('second', () => order.push('second'));
  onCleanup('failing', () => {
    throw new Error('ignored');
  });
  runCleanups();
  assert.deepEqual(order, ['second', 'first'], 'newest first; a failing action does not stop the others');
  assert.deepEqual(pendingCleanups(), []);
});

for (const [mode, expectCode] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129], ['throw', 1], ['exit', 0]] as const) {
  test(`cleanup actions run on ${mode} and the process exits with ${expectCode}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cleanup-'));
    const marker = join(dir, 'marker');
    const { url, needsTsx } = moduleUrl('src/sys/cleanup.js');
    const code = `
      const { onCleanup } = await import(${JSON.stringify(url)});
      const { writeFileSync } = await import('node:fs');
      onCleanup('marker', () => writeFileSync(${JSON.stringify(marker)}, 'cleaned'));
      const mode = ${JSON.stringify(mode)};
      if (mode === 'throw') setTimeout(() => { throw new Error('boom'); }, 10);
      else if (mode === 'exit') setTimeout(() => {}, 10);
      else { setInterval(() => {}, 1000); console.log('ready'); }
    `;
    try {
      const r = await runChild(code, needsTsx, (line, kill) => {
        if (line === 'ready') kill(mode as NodeJS.Signals);
      });
      assert.equal(r.code, expectCode, r.stderr);
      assert.equal(existsSync(marker) ? readFileSync(marker, 'utf8') : 'missing', 'cleaned');
      if (mode === 'throw') assert.match(r.stderr, /Error: boom/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// A program's own SIGINT listener decides when to exit, and the cleanups still run when it does:
// one added after onCleanup, and a once() listener added before it (as the tools did), which runs
// first and has removed itself by the time the cleanup's listener looks.
const OWN_HANDLERS: [string, (marker: string, register: string) => string][] = [
  ['on(), after onCleanup', (m, register) => `${register}
    process.on('SIGINT', () => { appendFileSync(${m}, 'summary;'); process.exit(0); });
    setInterval(() => {}, 1000);`],
  ['once(), before onCleanup', (m, register) => `const keep = setInterval(() => {}, 1000);
    process.once('SIGINT', () => setTimeout(() => { appendFileSync(${m}, 'summary;'); clearInterval(keep); process.exit(0); }, 50));
    ${register}`],
];

for (const [how, body] of OWN_HANDLERS) {
  test(`a program's own SIGINT listener (${how}) runs; cleanups still happen when it exits`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cleanup-'));
    const marker = JSON.stringify(join(dir, 'marker'));
    const { url, needsTsx } = moduleUrl('src/sys/cleanup.js');
    const code = `
      const { onCleanup } = await import(${JSON.stringify(url)});
      const { appendFileSync } = await import('node:fs');
      ${body(marker, `onCleanup('marker', () => appendFileSync(${marker}, 'cleaned;'));`)}
      console.log('ready');
    `;
    try {
      const r = await runChild(code, needsTsx, (line, kill) => line === 'ready' && kill('SIGINT'));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(dir, 'marker'), 'utf8'), 'summary;cleaned;');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
