// The CO-RE cache (src/kernel/core-cache.ts): what it keeps patches a program exactly as resolving
// does; a file that is corrupt, truncated, of another format, object or kernel is ignored; and
// Collection.load really uses it (a sound file whose results poison every relocation makes the
// load fail with the poison's reason) and replaces a bad one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseObject } from '../../src/object/load-spec.js';
import { applyCoRe, applyCoReResults, resolveCoRe } from '../../src/object/core.js';
import { objectDigest, readCoreCache, writeCoreCache, kernelIdentity } from '../../src/kernel/core-cache.js';
import { Collection } from '../../src/kernel/collection.js';
import { vmlinuxBtf } from '../../src/kernel/vmlinux.js';
import { needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';
import { assertGone } from './leaks.js';

const OBJECT = repoPath('src/tools/execsnoop/execsnoop.bpf.o');
const PROGRAMS = ['tracepoint__syscalls__sys_enter_execve', 'tracepoint__syscalls__sys_exit_execve'];
const bytes = () => new Uint8Array(readFileSync(OBJECT));

function withDir(f: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-core-cache-'));
  return Promise.resolve(f(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('cached results patch the programs exactly as resolving against the kernel does', (t) =>
  withDir((dir) => {
    if (!existsSync('/sys/kernel/btf/vmlinux')) return t.skip('no kernel BTF');
    const kernel = kernelIdentity();
    assert.ok(kernel, 'kernel identity (boot id, release, version, BTF size)');
    const digest = objectDigest(bytes());
    const spec = parseObject(bytes(), 'execsnoop');
    assert.ok(spec.programs.some((p) => p.coreRelos.length > 0), 'the object has CO-RE relocations');
    writeCoreCache(digest, resolveCoRe(spec, vmlinuxBtf()), dir, kernel);
    assert.equal(readdirSync(dir).length, 1, 'one file, no temporary left');
    const cached = readCoreCache(spec, digest, dir, kernel);
    assert.ok(cached);
    const viaCache = applyCoReResults(parseObject(bytes(), 'execsnoop'), cached);
    const direct = applyCoRe(parseObject(bytes(), 'execsnoop'), vmlinuxBtf());
    for (let i = 0; i < direct.programs.length; i++) {
      assert.deepEqual(viaCache.programs[i]!.instructions, direct.programs[i]!.instructions, direct.programs[i]!.name);
      assert.deepEqual(viaCache.programs[i]!.poisoned, direct.programs[i]!.poisoned);
    }
  }));

test('a corrupt, truncated, foreign or other-kernel cache file is ignored', (t) =>
  withDir((dir) => {
    if (!existsSync('/sys/kernel/btf/vmlinux')) return t.skip('no kernel BTF');
    const kernel = 'boot-a | 6.x | #1 | 123';
    const digest = objectDigest(bytes());
    const spec = parseObject(bytes(), 'execsnoop');
    writeCoreCache(digest, resolveCoRe(spec, vmlinuxBtf()), dir, kernel);
    const file = join(dir, readdirSync(dir)[0]!);
    const good = readFileSync(file, 'utf8');
    assert.ok(readCoreCache(spec, digest, dir, kernel));
    // another boot or kernel, another object
    assert.equal(readCoreCache(spec, digest, dir, 'boot-b | 6.x | #1 | 123'), undefined);
    assert.equal(readCoreCache(spec, 'f'.repeat(64), dir, kernel), undefined);
    const json = good.slice(good.indexOf('\n') + 1);
    const sealed = (body: string) => `${createHash('sha256').update(body).digest('hex')}\n${body}`;
    const bad: Array<[string, string]> = [
      ['empty', ''],
      ['truncated', good.slice(0, good.length - 10)],
      ['a flipped byte', good.slice(0, 200) + (good[200] === 'x' ? 'y' : 'x') + good.slice(201)],
      ['no checksum', json],
      ['not JSON (sealed)', sealed('{"format":')],
      ['another format (sealed)', sealed(json.replace('tsbpf-core-cache 1', 'tsbpf-core-cache 0'))],
      ['a value that is not a number (sealed)', sealed(json.replace(/"value":\d+/, '"value":"12"'))],
      ['a program missing (sealed)', sealed(json.replace(/"tracepoint__syscalls__sys_exit_execve"/, '"other"'))],
      ['a relocation missing (sealed)', sealed(json.replace(/\{"ok":true[^{}]*\},/, ''))],
      ['binary garbage', '\u0000\u00ff'.repeat(500)],
    ];
    for (const [what, text] of bad) {
      writeFileSync(file, text);
      assert.equal(readCoreCache(spec, digest, dir, kernel), undefined, what);
    }
    writeFileSync(file, good);
    assert.ok(readCoreCache(spec, digest, dir, kernel), 'the good file again');
  }));

test('Collection.load uses the cache (a sound file that poisons every relocation fails the load) and replaces a corrupt one', async (t) => {
  if (!needsRoot(t)) return;
  await withDir(async (dir) => {
    const saved = process.env.TSBPF_CACHE_DIR;
    process.env.TSBPF_CACHE_DIR = dir;
    try {
      const c = Collection.load(OBJECT, { programs: PROGRAMS });
      const ids = { prog: [...c.programs.values()].map((p) => p.id), map: [...c.maps.values()].map((m) => m.id) };
      c.close();
      await assertGone('prog', ids.prog);
      await assertGone('map', ids.map);
      const file = join(dir, readdirSync(dir)[0]!);
      const good = readFileSync(file, 'utf8');
      const body = JSON.parse(good.slice(good.indexOf('\n') + 1));
      for (const list of Object.values(body.programs) as Array<Array<{ local: string }>>) {
        list.forEach((r, i) => (list[i] = { ok: false, reason: 'poisoned by the cache test', local: r.local } as never));
      }
      const poisoned = JSON.stringify(body);
      writeFileSync(file, `${createHash('sha256').update(poisoned).digest('hex')}\n${poisoned}`);
      assert.throws(() => Collection.load(OBJECT, { programs: PROGRAMS }), /poisoned by the cache test/);
      // corrupt: ignored, resolved again, and the file rewritten sound
      writeFileSync(file, good.slice(0, 100));
      const again = Collection.load(OBJECT, { programs: PROGRAMS });
      const ids2 = [...again.programs.values()].map((p) => p.id);
      again.close();
      await assertGone('prog', ids2);
      assert.equal(readFileSync(file, 'utf8'), good);
    } finally {
      if (saved === undefined) delete process.env.TSBPF_CACHE_DIR;
      else process.env.TSBPF_CACHE_DIR = saved;
    }
  });
});
