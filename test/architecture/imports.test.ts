// The import rules of docs/architecture.md (.dependency-cruiser.cjs), run over src/ on every
// `npm test`: an arrow the design forbids fails here. A tree of deliberately wrong imports shows each
// rule does fire, and tsconfig.pure.json is checked to build exactly the layers the rules call pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult, type IFlattenedRuleSet } from 'dependency-cruiser';
import { repoPath } from '../helpers/objects.js';

interface Config {
  forbidden: IFlattenedRuleSet['forbidden'];
  options: { tsPreCompilationDeps: boolean; doNotFollow: { path: string }; exclude: { path: string }; enhancedResolveOptions: Record<string, unknown> };
  publicModules: string[];
}

const config = createRequire(import.meta.url)(repoPath('.dependency-cruiser.cjs')) as Config;

/** Cruises `dirs` under `root` with the project's rules; the violations as "rule: from → to". */
async function violations(root: string, dirs: string[]): Promise<string[]> {
  const o = config.options;
  const r = await cruise(
    dirs,
    {
      baseDir: root,
      validate: true,
      ruleSet: { forbidden: config.forbidden },
      tsPreCompilationDeps: o.tsPreCompilationDeps,
      doNotFollow: o.doNotFollow,
      exclude: o.exclude,
      enhancedResolveOptions: o.enhancedResolveOptions,
    },
    {},
    { tsConfig: { fileName: repoPath('tsconfig.json') } },
  );
  const out = r.output as ICruiseResult;
  return (out.summary.violations ?? []).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

test('src/ keeps every import rule', async () => {
  const found = await violations(repoPath(), ['src']);
  assert.deepEqual(found, [], `imports the design forbids:\n${found.join('\n')}`);
});

test('each rule fires on an import it forbids', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tsbpf-arch-'));
  const files: Record<string, string> = {
    'src/btf/parse.ts': 'export const parse = 1;\n',
    'src/isa/op.ts': 'export const op = 1;\n',
    'src/sys/native.ts': 'export const native = 1;\n',
    'src/sys/fds.ts': 'export const fds = 1;\n',
    'src/sys/errors.ts': 'export const errors = 1;\n',
    'src/index.ts': "export { errors } from './sys/errors.js';\n",
    'src/vm/index.ts': 'export {};\n',
    'src/command/index.ts': 'export {};\n',
    'src/cli/main.ts': 'export const main = 1;\n',
    // the arrows the design forbids, one a rule
    'src/sys/probe.ts': "import { parse } from '../btf/parse.js';\nexport const p = parse;\n",
    'src/isa/up.ts': "import { fds } from '../sys/fds.js';\nexport const u = fds;\n",
    'src/vm/fs.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
    'src/kernel/raw.ts': "import { native } from '../sys/native.js';\nexport const n = native;\n",
    'src/tools/t/index.ts': "import { fds } from '../../sys/fds.js';\nimport { errors } from '../../sys/errors.js';\nexport const t = [fds, errors];\n",
    'src/tools/u/index.ts': "import { t } from '../t/index.js';\nexport const u = t;\n",
    'src/output/cli.ts': "import { main } from '../cli/main.js';\nexport const c = main;\n",
    'src/script/codegen.ts': "import { fds } from '../sys/fds.js';\nexport const g = fds;\n",
    'src/maps/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'src/maps/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
  };
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const found = await violations(root, ['src']);
    const expect = [
      'layer-sys: src/sys/probe.ts → src/btf/parse.ts',
      'layer-isa: src/isa/up.ts → src/sys/fds.ts',
      'pure-no-node: src/vm/fs.ts → fs',
      'only-sys-calls-the-kernel: src/kernel/raw.ts → src/sys/native.ts',
      'tools-public-api: src/tools/t/index.ts → src/sys/fds.ts',
      'tool-not-another-tool: src/tools/u/index.ts → src/tools/t/index.ts',
      'layer-output: src/output/cli.ts → src/cli/main.ts',
      'cli-is-the-top: src/output/cli.ts → src/cli/main.ts',
      'script-compiler-pure: src/script/codegen.ts → src/sys/fds.ts',
      'no-circular: src/maps/a.ts → src/maps/b.ts',
    ];
    for (const e of expect) assert.ok(found.includes(e), `${e} not reported; reported:\n${found.join('\n')}`);
    // a public module is open to tools: sys/errors.ts is exported by src/index.ts
    assert.ok(!found.some((v) => v.includes('src/sys/errors.ts')), found.join('\n'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('tools see only what the public entries export', () => {
  const pub = config.publicModules;
  for (const m of ['src/index.ts', 'src/kernel/collection.ts', 'src/maps/map.ts', 'src/link/netlink.ts', 'src/sys/cleanup.ts', 'src/sys/fd.ts', 'src/command/lifecycle.ts']) {
    assert.ok(pub.includes(m), `${m} is not public`);
  }
  // the Fd type and asFd are public (fd.ts), the registry of owned descriptors (fds.ts) is not
  for (const m of ['src/sys/bpf.ts', 'src/sys/fds.ts', 'src/sys/native.ts', 'src/sys/attr.ts']) assert.ok(!pub.includes(m), `${m} should be internal`);
});

test('tsconfig.pure.json builds the layers the rules call pure, without Node types', () => {
  // comments are allowed in tsconfig files: drop whole-line ones before parsing
  const text = readFileSync(repoPath('tsconfig.pure.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const pure = JSON.parse(text) as { include: string[]; exclude: string[]; compilerOptions: { types: string[]; lib: string[] } };
  assert.deepEqual(pure.compilerOptions.types, []);
  assert.ok(!pure.compilerOptions.lib.some((l) => /node/i.test(l)));
  const rules = readFileSync(repoPath('.dependency-cruiser.cjs'), 'utf8');
  const list = (name: string): string[] => {
    const m = rules.match(new RegExp(`const ${name} = \\[([^\\]]*)\\]`));
    assert.ok(m, `${name} in .dependency-cruiser.cjs`);
    return [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
  };
  const folders = [...list('PURE_FOLDERS'), 'script'].map((f) => `src/${f}/**/*.ts`);
  assert.deepEqual([...pure.include].sort(), [...folders, ...list('PURE_MODULES')].sort());
  assert.deepEqual([...pure.exclude].sort(), list('SCRIPT_FRONT_END').map((f) => `src/script/${f}.ts`).sort());
});
