// The API docs (npm run docs: TypeDoc over the library's and tsbpf/vm's entry points) build without
// errors and carry the doc comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from '../helpers/objects.js';

test('TypeDoc builds the API docs from the doc comments', () => {
  const out = mkdtempSync(join(tmpdir(), 'tsbpf-docs-'));
  try {
    const r = spawnSync(process.execPath, [repoPath('node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: repoPath(), encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /\[error\]/);
    for (const page of ['classes/index.Collection.html', 'classes/index.LoadedObjects.html', 'classes/vm.Vm.html', 'functions/index.generateTypes.html', 'functions/vm.compileFilter.html']) {
      assert.ok(existsSync(join(out, page)), page);
    }
    assert.match(readFileSync(join(out, 'classes/index.Collection.html'), 'utf8'), /Records of the ring buffer map/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
