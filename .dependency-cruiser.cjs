// The import rules of docs/architecture.md, checked by dependency-cruiser on every `npm test`
// (test/architecture/imports.test.ts) and by hand with `npx depcruise src`.
//
// Each layer lists the folders it may import; an import of any other folder of src/ is an error.
// Pure layers import no Node built-in and no npm package. Tools see only the public surface.
'use strict';
const { readFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

// What each layer may import besides itself (folders of src/, or single modules named by their path).
// Lower layers first; an arrow up this table is what the check refuses.
const LAYERS = {
  uapi: [],
  isa: ['uapi'],
  elf: ['uapi'],
  output: ['uapi'],
  btf: ['isa', 'elf', 'uapi'],
  // DWARF of user binaries (uprobe arguments), its types converted to BTF
  dwarf: ['btf', 'isa', 'elf', 'uapi'],
  object: ['isa', 'elf', 'btf', 'uapi'],
  vm: ['isa', 'elf', 'btf', 'object', 'uapi'],
  gen: ['isa', 'elf', 'btf', 'object', 'uapi'],
  // the filter compiler emits a CollectionSpec (object/compiled.ts) like the script compiler
  net: ['isa', 'uapi', 'object', 'vm', 'output'],
  sys: ['uapi'],
  tracefs: ['sys', 'uapi'],
  maps: ['sys', 'btf', 'uapi'],
  link: ['sys', 'tracefs', 'elf', 'uapi'],
  kernel: ['sys', 'tracefs', 'maps', 'link', 'object', 'btf', 'elf', 'isa', 'uapi'],
  build: ['btf', 'uapi'],
  command: ['sys', 'uapi'],
};

// Modules of an impure folder that are pure all the same (they parse text), so pure layers may use them.
const PURE_MODULES = ['src/tracefs/format.ts'];
const PURE_FOLDERS = ['uapi', 'isa', 'elf', 'output', 'btf', 'dwarf', 'object', 'vm', 'net', 'gen'];

// The script language is a compiler (pure) with a front end that loads, attaches and prints: these
// files may use the kernel runtime. The rest of src/script/ is held to the pure layers' rule.
// (info, preprocess, cgroup-path and uprobe-target read the machine's files for the front end)
const SCRIPT_FRONT_END = ['index', 'cli', 'runtime', 'compile', 'usym', 'info', 'preprocess', 'cgroup-path', 'uprobe-target'];
const SCRIPT_COMPILER = ['isa', 'elf', 'btf', 'object', 'uapi', 'output', 'vm'];

// The package's entries are facades over the layers, not layers: tsbpf/vm (src/vm/index.ts) also
// offers the compilers that make programs for the VM, so it is held to the pure layers instead.
const ENTRIES = ['src/index.ts', 'src/vm/index.ts', 'src/command/index.ts'];

const folders = (list) => `^src/(${list.join('|')})/`;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const modules = (list) => list.map((m) => `^${escape(m)}$`);

/**
 * The public modules: those src/index.ts (and the tsbpf/vm and tsbpf/command entries) re-export from,
 * followed through index files that re-export in turn. A tool may import these and nothing else of
 * the library's internals.
 */
function publicModules(root) {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/^export\s[^;]*?\sfrom\s+'(\.[^']+)'/gms)) {
      walk(relative(root, join(dirname(join(root, file)), m[1])).replace(/\.js$/, '.ts'));
    }
  };
  for (const entry of ENTRIES) walk(entry);
  return [...seen].sort();
}

const PUBLIC = publicModules(__dirname);
const SCRIPT_COMPILER_MODULES = `^src/script/(?!(${SCRIPT_FRONT_END.join('|')})\\.ts$)`;

const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `${layer}/ may import only ${allowed.length ? allowed.join(', ') : 'itself'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${layer}/`, pathNot: modules(ENTRIES) },
  to: { path: '^src/', pathNot: [folders([layer, ...allowed]), ...(PURE_FOLDERS.includes(layer) ? modules(PURE_MODULES) : [])] },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'vm-entry-pure',
      comment: 'tsbpf/vm runs in a browser: it offers the VM and the compilers, nothing that needs a kernel or Node',
      severity: 'error',
      from: { path: '^src/vm/index\\.ts$' },
      to: { path: '^src/', pathNot: [folders(PURE_FOLDERS), SCRIPT_COMPILER_MODULES, ...modules(PURE_MODULES)] },
    },
    {
      name: 'script-compiler-pure',
      comment: 'the script compiler imports only pure layers (its front end files may load and attach)',
      severity: 'error',
      from: { path: '^src/script/', pathNot: modules(SCRIPT_FRONT_END.map((f) => `src/script/${f}.ts`)) },
      to: { path: '^src/', pathNot: [folders(['script', ...SCRIPT_COMPILER]), ...modules(PURE_MODULES)] },
    },
    {
      name: 'script-not-commands',
      comment: 'the script language is a library: it does not import the CLI or the tools',
      severity: 'error',
      from: { path: '^src/script/' },
      to: { path: folders(['cli', 'tools', 'agent']) },
    },
    {
      name: 'pure-no-node',
      comment: 'pure layers take bytes and return values: no Node built-ins, no npm packages (they build without @types/node and run in a browser)',
      severity: 'error',
      from: {
        path: [folders(PURE_FOLDERS), ...modules(PURE_MODULES)],
      },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'script-compiler-no-node',
      comment: 'the script compiler is pure too',
      severity: 'error',
      from: { path: '^src/script/', pathNot: modules(SCRIPT_FRONT_END.map((f) => `src/script/${f}.ts`)) },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'only-sys-calls-the-kernel',
      comment: 'the native addon is reached through src/sys/ alone',
      severity: 'error',
      from: { pathNot: '^src/sys/' },
      to: { path: '^src/sys/native\\.ts$' },
    },
    {
      name: 'tools-public-api',
      comment: 'a tool uses the public API (what src/index.ts, tsbpf/vm and tsbpf/command export), the compilers (net/), output/ and the shared tool code, never internals',
      severity: 'error',
      from: { path: '^src/tools/' },
      to: { path: '^src/', pathNot: [folders(['tools', 'output', 'net', 'command']), ...modules(PUBLIC)] },
    },
    {
      name: 'agent-public-api',
      comment: 'the agent runs tools and scripts over the public API (with the compilers, output/ and the commands\' life cycle), never internals',
      severity: 'error',
      from: { path: '^src/agent/' },
      to: { path: '^src/', pathNot: [folders(['agent', 'tools', 'output', 'net', 'script', 'command']), ...modules(PUBLIC)] },
    },
    {
      name: 'tool-not-another-tool',
      comment: 'what two tools share lives in src/tools/common/, not in one of them',
      severity: 'error',
      from: { path: '^src/tools/([^/]+)/' },
      to: { path: '^src/tools/', pathNot: ['^src/tools/$1/', '^src/tools/common/', '^src/tools/[^/]+\\.ts$'] },
    },
    {
      name: 'tools-common-not-a-tool',
      comment: 'the shared tool code does not depend on any one tool',
      severity: 'error',
      from: { path: '^src/tools/common/' },
      to: { path: '^src/tools/[^/]+/', pathNot: '^src/tools/common/' },
    },
    {
      name: 'cli-is-the-top',
      comment: 'nothing imports the CLI',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'tools-only-from-cli',
      comment: 'only the CLI (and the agent) runs tools; the library does not know them',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(cli|tools|agent)/'] },
      to: { path: '^src/tools/' },
    },
    {
      name: 'src-not-test',
      comment: 'the library never imports its tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts|examples)/' },
    },
    {
      name: 'no-circular',
      comment: 'no cycle of static run-time imports between modules (a cycle closed by an `import type` is gone from the emitted code, one through a lazy `import()` does not decide the order modules start in; between folders the layer rules refuse both anyway)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only', 'dynamic-import'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // `import type` counts: a type-only arrow up the layers is still an arrow up the layers
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};

// for the test and docs: which modules count as public (not part of the configuration proper)
Object.defineProperty(module.exports, 'publicModules', { value: PUBLIC, enumerable: false });
