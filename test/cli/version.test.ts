// `tsbpf --version` is package.json's version, a semver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../src/command/version.js';
import { repoPath } from '../helpers/objects.js';

test("tsbpf --version is package.json's, and the changelog has it", () => {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
  assert.match(VERSION, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  assert.match(readFileSync(repoPath('CHANGELOG.md'), 'utf8'), new RegExp(`^## \\[${VERSION.replace(/\./g, '\\.')}\\]`, 'm'));
});
