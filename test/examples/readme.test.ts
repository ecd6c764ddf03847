// The README's library snippet is examples/library/library.ts (which tsc checks with every build),
// with the package's own import specifiers: if one changes, this fails until the other follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { repoPath } from '../helpers/objects.js';

test("the README's library snippet is the type-checked example", () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const block = /## The library\n\n```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has a ```ts block under "## The library"');
  const example = readFileSync(repoPath('examples/library/library.ts'), 'utf8')
    .replace("'../../src/index.js'", "'tsbpf'")
    .replace("'../../src/tools/tcpconnect/tcpconnect.gen.js'", "'./tcpconnect.gen.js'");
  assert.equal(block[1], example);
});
