// Standard output as Unix tools write it (src/sys/stdout.ts), in child processes writing to a real
// pipe or socket: what the pipe cannot take waits in order; records past the limit are dropped and
// counted, never buffered without bound; a reader gone ends the output (while idle too); a failed
// write (/dev/full) ends it with the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { moduleUrl } from './child.js';

const { url } = moduleUrl('src/sys/stdout.js');

/** Runs `body` (ESM, with `Output` in scope) as `sh -c "node … | READER"` or with `stdout` as given. */
function child(body: string, o: { reader?: string; stdout?: number } = {}): Promise<{ out: string; err: string; code: number | null; ms: number }> {
  const code = `const { Output } = await import(${JSON.stringify(url)});\n${body}`;
  const node = [process.execPath, '--input-type=module', '-e', code];
  const t0 = Date.now();
  const p = o.reader
    ? spawn('bash', ['-c', `"$@" | ${o.reader}; exit \${PIPESTATUS[0]}`, 'sh', ...node], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(node[0]!, node.slice(1), { stdio: ['ignore', o.stdout ?? 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res) => p.on('close', (c) => res({ out, err, code: c, ms: Date.now() - t0 })));
}

const LINES = `
const o = new Output(1);
for (let i = 0; i < 5000; i++) o.write(\`line \${i} \${'x'.repeat(100)}\\n\`);
await o.drain();`;

test('output larger than the pipe arrives whole and in order (pipe and socket)', async () => {
  for (const r of [await child(LINES, { reader: '(sleep 0.3; cat)' }), await child(LINES)]) {
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines.length, 5001);
    for (let i = 0; i < 5000; i++) assert.ok(lines[i]!.startsWith(`line ${i} `), `line ${i}: ${lines[i]!.slice(0, 20)}`);
  }
});

test('records past the limit are dropped and counted while the reader stalls; the rest arrive in order', async () => {
  const r = await child(`
const o = new Output(1, 64 * 1024);
let kept = 0;
for (let i = 0; i < 20000; i++) if (o.record(\`rec \${i} \${'y'.repeat(90)}\\n\`)) kept++;
process.stderr.write(\`kept \${kept} lost \${o.lost} queued \${o.pending}\\n\`);
await o.drain();`, { reader: '(sleep 0.5; cat)' });
  assert.equal(r.code, 0, r.err);
  const m = /kept (\d+) lost (\d+) queued (\d+)/.exec(r.err)!;
  const [kept, lost, queued] = [Number(m[1]), Number(m[2]), Number(m[3])];
  assert.equal(kept + lost, 20000);
  assert.ok(lost > 10000, `lost ${lost}`);
  assert.ok(queued <= 64 * 1024 + 200, `queued ${queued}: bounded by the limit`);
  const got = r.out.trim().split('\n').map((l) => Number(/^rec (\d+) /.exec(l)![1]));
  assert.equal(got.length, kept);
  assert.ok(got.every((n, i) => i === 0 || n > got[i - 1]!), 'in order');
});

test('a reader gone ends the output: at the next write, and while idle', async () => {
  for (const idle of [false, true]) {
    const r = await child(`
const o = new Output(1);
o.watchReader(true);
o.onEnd((e) => { process.stderr.write('ended ' + e.kind + '\\n'); process.exit(0); });
o.write('first\\n');
${idle ? '' : "setInterval(() => o.record('more\\\\n'), 20);"}
setTimeout(() => { process.stderr.write('still running\\n'); process.exit(1); }, 10000);`, { reader: 'head -1' });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'first\n');
    assert.equal(r.err, 'ended closed\n', idle ? 'idle' : 'writing');
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
  }
});

test('a failed write ends the output with its error (/dev/full)', async () => {
  const fd = openSync('/dev/full', 'w');
  try {
    const r = await child(`
const o = new Output(1);
o.onEnd((e) => process.stderr.write(e.kind + ' ' + (e.error?.code ?? '') + '\\n'));
o.write('x\\n');
o.write('y\\n');
process.stderr.write('ended: ' + JSON.stringify(o.ended?.kind) + ', record kept: ' + o.record('z\\n') + '\\n');`, { stdout: fd });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, 'failed ENOSPC\nended: "failed", record kept: false\n');
  } finally {
    closeSync(fd);
  }
});
