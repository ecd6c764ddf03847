// The direct stdout writer (trace runtime, tools): write(2) straight to the fd, and when a non-blocking pipe is
// full, the rest through process.stdout without losing or reordering anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const writer = new URL('../../src/output/stdout.js', import.meta.url).href;

function child(lines: number): Promise<{ out: string; code: number | null }> {
  // the reader waits before reading, so the pipe fills and write(2) meets EAGAIN
  const code = `const { directStdout } = await import(${JSON.stringify(writer)});
const w = directStdout();
for (let i = 0; i < ${lines}; i++) w(\`line \${i} \${'x'.repeat(100)}\\n\`);`;
  const p = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stdout.pause();
  setTimeout(() => p.stdout.resume(), 300);
  const exited = new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
  const ended = new Promise<void>((resolve) => p.stdout.on('end', () => resolve()));
  return Promise.all([exited, ended]).then(([c]) => ({ out, code: c }));
}

test('output larger than the pipe arrives whole and in order', async () => {
  const n = 5000; // ~550 KB, far more than a pipe holds
  const { out, code } = await child(n);
  assert.equal(code, 0);
  const lines = out.split('\n');
  assert.equal(lines.length, n + 1);
  for (let i = 0; i < n; i++) assert.ok(lines[i]!.startsWith(`line ${i} `), `line ${i}: ${lines[i]!.slice(0, 20)}`);
});

test('small output is written directly', async () => {
  const { out, code } = await child(3);
  assert.equal(code, 0);
  assert.equal(out.split('\n').length, 4);
});
