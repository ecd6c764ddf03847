// The life cycle of a command (src/command/lifecycle.ts), in child processes: a Run keeps the process
// alive until SIGINT, SIGTERM, SIGHUP or its duration stops it, and says why; the command then ends
// normally (exit 0). A second signal while it winds down exits at once, with the cleanups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleUrl, runChild } from '../sys/child.js';

const life = moduleUrl('src/command/lifecycle.js');
const cleanup = moduleUrl('src/sys/cleanup.js');

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${sig} stops a Run: the command finishes what it owes and the process exits 0`, async () => {
    const code = `
      const { startRun } = await import(${JSON.stringify(life.url)});
      const run = startRun();
      console.log('ready');
      await run.stopped();
      console.log('summary after ' + run.reason);
      run.end();
    `;
    const r = await runChild(code, life.needsTsx, (line, kill) => line === 'ready' && kill(sig));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `ready\nsummary after ${sig}\n`);
  });
}

test('a Run with a duration stops by itself; without one it keeps the process alive until told', async () => {
  const code = `
    const { startRun } = await import(${JSON.stringify(life.url)});
    const t0 = Date.now();
    const run = startRun({ duration: 0.3 });
    await run.stopped();
    run.end();
    console.log(run.reason, Date.now() - t0 >= 250);
    const forever = startRun();
    setTimeout(() => forever.stop(), 300);
    await forever.stopped();
    forever.end();
    console.log(forever.reason);
  `;
  const r = await runChild(code, life.needsTsx);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'duration true\nstopped\n');
});

test('a second signal while the command winds down exits at once with 130, after the cleanups', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-life-'));
  const marker = join(dir, 'marker');
  const code = `
    const { startRun } = await import(${JSON.stringify(life.url)});
    const { onCleanup } = await import(${JSON.stringify(cleanup.url)});
    const { writeFileSync } = await import('node:fs');
    onCleanup('marker', () => writeFileSync(${JSON.stringify(marker)}, 'cleaned'));
    const run = startRun();
    console.log('ready');
    await run.stopped();
    console.log('winding down');
    setInterval(() => {}, 1000); // a slow summary
  `;
  try {
    let n = 0;
    const r = await runChild(code, life.needsTsx, (line, kill) => (line === 'ready' || line === 'winding down') && n++ < 2 && kill('SIGINT'));
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stdout, 'ready\nwinding down\n');
    assert.equal(existsSync(marker) ? readFileSync(marker, 'utf8') : 'missing', 'cleaned');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
