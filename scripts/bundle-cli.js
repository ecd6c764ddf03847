// Bundles the CLI for start-up: one CommonJS file per command, dist/cli/<command>.cjs, holding
// launch() (src/cli/launch.ts), that command's modules and commander, and nothing else; plus
// dist/cli/tsbpf.cjs for the command list and unknown commands. bin/tsbpf loads the one the command
// line names. Why: Node 20 resolves, reads and links every ES module one by one (~60 of them for
// `tsbpf trace`), which cost more than the work of a one-liner; a single CommonJS file per command
// is read and compiled in one go. Built from dist/ (tsc's output), so the bundles run the very code
// the tests run. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'cli');
const registryFile = join(dist, 'src/cli/registry.js');
const toolsFile = join(dist, 'src/tools/commands.js');

const { commands } = await import(pathToFileURL(registryFile).href);
const { toolCommands } = await import(pathToFileURL(toolsFile).href);
const toolNames = new Set(toolCommands.map((c) => c.name));

/** The module a registry entry's load() imports, as an absolute path (the entries are `async () => (await import('./x.js')).f()`). */
function moduleOf(entry) {
  const found = [...String(entry.load).matchAll(/import\(\s*(['"])([^'"]+)\1\s*\)/g)];
  if (found.length !== 1) throw new Error(`bundle-cli: cannot tell which module command '${entry.name}' loads: ${entry.load}`);
  return resolve(dirname(toolNames.has(entry.name) ? toolsFile : registryFile), found[0][2]);
}

/**
 * The registries' dynamic imports: only the bundled command's is followed, the others stay
 * external (never evaluated: launch() only loads the command named on the command line).
 * commander's require of child_process (for executable subcommands, which tsbpf has none of) is
 * made lazy: loading child_process pulls in net and streams at every start.
 */
function onlyCommand(keep) {
  return {
    name: 'only-command',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        if (args.importer !== registryFile && args.importer !== toolsFile) return undefined;
        const target = resolve(dirname(args.importer), args.path);
        return target === keep ? undefined : { path: args.path, external: true };
      });
      b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
        args.importer.includes(`${join('node_modules', 'commander')}`) ? { path: 'lazy-child-process', namespace: 'tsbpf' } : undefined,
      );
      b.onLoad({ filter: /^lazy-child-process$/, namespace: 'tsbpf' }, () => ({
        contents: "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
        loader: 'js',
      }));
    },
  };
}

async function bundle(name, keep) {
  await build({
    stdin: { contents: "import { launch } from './src/cli/launch.js';\nlaunch(process.argv);\n", resolveDir: dist, sourcefile: `${name}-entry.js` },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(out, `${name}.cjs`),
    // import.meta.url is how src/sys/native.ts and the tools find the addon and the .bpf.o files
    define: { 'import.meta.url': '__tsbpf_url' },
    banner: { js: "const __tsbpf_url = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [onlyCommand(keep)],
    // import() becomes require(): bin/tsbpf compiles a bundle as a vm.Script (for V8's code cache),
    // where import() has no loader
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
    legalComments: 'none',
  });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await bundle('tsbpf', undefined);
for (const c of commands) await bundle(c.name, moduleOf(c));
const made = readdirSync(out).filter((f) => f.endsWith('.cjs'));
if (made.length !== commands.length + 1) throw new Error(`bundle-cli: made ${made.length} bundles for ${commands.length} commands`);
