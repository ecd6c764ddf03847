// tsbpf/vm in a real browser: Debian's Chromium, headless, driven by puppeteer-core (nothing
// downloaded), loads a page whose script is `tsbpf/vm` bundled by esbuild for the browser. The page
// compiles a tcpdump filter, verifies it with tsbpf's verifier, runs it on two packets with the
// interpreter and the WebAssembly JIT, compiles a bpftrace-style script, and puts what it found on
// the page, where the test reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { inCI } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';

const CHROMIUM = '/usr/bin/chromium';

// The page's script, as an application would write it against the package.
const APP = `
import { Vm, verify, compileFilter, compileScriptFor, ProgramType } from 'tsbpf/vm';

function packet(dport) {
  const b = new Uint8Array(54);
  const v = new DataView(b.buffer);
  v.setUint16(12, 0x0800);                       // Ethernet: IPv4
  b[14] = 0x45; v.setUint16(16, 40); b[22] = 64; b[23] = 6;   // IPv4, TCP
  b.set([10, 0, 0, 1], 26); b.set([10, 0, 0, 2], 30);
  v.setUint16(34, 40000); v.setUint16(36, dport); b[46] = 0x50; b[47] = 0x02;   // TCP SYN
  return b;
}

try {
  const filter = compileFilter('tcp dst port 80');
  const verdict = verify({ name: 'filter', type: ProgramType.SOCKET_FILTER, insns: filter.insns });
  const vm = Vm.loadSync(filter.insns, { type: ProgramType.SOCKET_FILTER, name: 'filter' });
  const run = (engine) => [80, 22].map((port) => String(vm.runSkb('filter', packet(port), { engine, l2: true }).r0));
  const script = compileScriptFor('BEGIN { printf("%d\\\\n", 6 * 7); exit() }', {});
  window.__result = {
    userAgent: navigator.userAgent,
    filterInsns: filter.insns.length,
    verified: verdict.ok,
    interpreter: run('interp'),
    jit: run('jit'),
    scriptInsns: script.units.reduce((n, u) => n + u.insns.length, 0),
  };
} catch (e) {
  window.__result = { error: String(e && e.stack || e) };
}
document.body.textContent = JSON.stringify(window.__result);
`;

test('tsbpf/vm in headless Chromium: verify, interpret and JIT a filter on packets, compile a script', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (inCI) throw new Error('chromium is not installed (apt-get install chromium) and CI=true forbids skipping');
    return t.skip('needs /usr/bin/chromium (apt-get install chromium)');
  }
  const bundle = await build({
    stdin: { contents: APP, resolveDir: repoPath(), sourcefile: 'app.js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome110',
    write: false,
    minify: true,
    alias: { 'tsbpf/vm': repoPath('dist/src/vm/index.js') },
    logLevel: 'silent',
  });
  const js = bundle.outputFiles[0]!.text;
  t.diagnostic(`page script: ${(js.length / 1024).toFixed(0)} KB (tsbpf/vm bundled for the browser)`);
  const server = createServer((req, res) => {
    if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>tsbpf/vm</title><body>loading</body><script type="module" src="/app.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const profile = mkdtempSync(join(tmpdir(), 'tsbpf-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', `--user-data-dir=${profile}`],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction('window.__result !== undefined', { timeout: 30_000 });
    const shown = String(await page.evaluate('document.body.textContent'));
    const result = JSON.parse(shown) as Record<string, unknown>;
    t.diagnostic(`page says: ${shown}`);
    assert.deepEqual(errors, []);
    assert.equal(result.error, undefined);
    assert.match(String(result.userAgent), /HeadlessChrome|Chrome/);
    assert.equal(result.verified, true);
    // 262144: the snapshot length kept of a packet to port 80; 0 drops the one to port 22
    assert.deepEqual(result.interpreter, ['262144', '0']);
    assert.deepEqual(result.jit, ['262144', '0']);
    assert.ok(Number(result.filterInsns) > 5 && Number(result.scriptInsns) > 5);
  } finally {
    await browser.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
