// tsbpf completion bash|zsh|fish and the EXAMPLES that end every command's --help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../src/cli/registry.js';
import { toolCommands } from '../../src/tools/commands.js';
import { bin } from '../helpers/cli.js';
import { needsCommand } from '../helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-completion-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function script(shell: string): string {
  const r = bin(['completion', shell]);
  assert.equal(r.status, 0, r.stderr);
  const file = join(dir, `tsbpf.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

test('bash: commands, subcommands and each command\'s own options complete', (t) => {
  if (!needsCommand(t, 'bash')) return;
  const file = script('bash');
  const complete = (...words: string[]): string[] => {
    const r = spawnSync('bash', ['-c', `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tsbpf; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(complete('tsbpf', 'tcp'), ['tcpconnect', 'tcplife', 'tcpstates']);
  assert.deepEqual(complete('tsbpf', 'tcpconnect', '--po'), ['--port']);
  assert.deepEqual(complete('tsbpf', 'gen', 'ty'), ['types']);
  assert.deepEqual(complete('tsbpf', 'gen', 'types', '--rec'), ['--record']);
  assert.ok(complete('tsbpf', 'execsnoop', '-').includes('--fails'));
  assert.ok(complete('tsbpf', 'vm', 'run', '--').includes('--pcap'), 'a subcommand\'s own options');
  // non-option words are file names
  assert.deepEqual(complete('tsbpf', 'run', 'tsbpf.ba'), ['tsbpf.bash']);
});

test('zsh and fish: the scripts parse, and fish completes commands and options', (t) => {
  if (!needsCommand(t, 'zsh') || !needsCommand(t, 'fish')) return;
  const zsh = script('zsh');
  const z = spawnSync('zsh', ['-n', zsh], { encoding: 'utf8' });
  assert.equal(z.status, 0, z.stderr);
  for (const c of commands) assert.match(spawnSync('cat', [zsh], { encoding: 'utf8' }).stdout, new RegExp(`'${c.name}:`), `zsh knows ${c.name}`);
  const fish = script('fish');
  const f = (line: string): string[] => {
    const r = spawnSync('fish', ['--no-config', '-c', `source ${fish}; complete -C '${line}'`], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
  };
  assert.deepEqual(f('tsbpf tcpc'), ['tcpconnect']);
  assert.deepEqual(f('tsbpf tcpconnect --dur'), ['--duration']);
  assert.ok(f('tsbpf gen ').includes('types'));
});

test('tsbpf completion refuses a shell it does not know, in one line', () => {
  const r = bin(['completion', 'csh']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no completion for 'csh' \(bash, zsh or fish\)/);
});

test("every tool's --help ends with EXAMPLES, each a command line of that tool", () => {
  for (const c of [...toolCommands, ...commands.filter((x) => ['trace', 'capture', 'run', 'vm', 'gen', 'completion'].includes(x.name))]) {
    const r = bin([c.name, '--help']);
    assert.equal(r.status, 0, r.stderr);
    const at = r.stdout.lastIndexOf('\nEXAMPLES:\n');
    assert.ok(at > 0, `${c.name} --help has EXAMPLES`);
    const lines = r.stdout.slice(at + 11).split('\n').filter(Boolean);
    assert.ok(lines.length >= 2, `${c.name}: ${lines.length} examples`);
    for (const l of lines) assert.match(l, new RegExp(`^ {4}(tsbpf ${c.name}\\b.*| +# .+)$`), `${c.name}: ${l}`);
  }
});

test('tsbpf help CMD is CMD --help', () => {
  const a = bin(['help', 'tcpconnect']);
  const b = bin(['tcpconnect', '--help']);
  assert.equal(a.status, 0);
  assert.equal(a.stdout, b.stdout);
});
