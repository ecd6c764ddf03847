// Bundles the CLI for start-up: one CommonJS file, dist/cli/tsbpf.cjs, holding launch()
// (src/cli/launch.ts), the command registry and commander, and every command's modules once. The
// registry's `import()` of a command becomes, in the bundle, the initialisation of that command's
// modules (esbuild's lazy module wrappers): a command's code runs only when that command does, and
// V8 compiles only the functions that run (its code cache holds just those). bin/tsbpf runs it.
// Why one file: Node 20 resolves, reads and links every ES module one by one (~60 of them for
// `tsbpf trace`), which cost more than the work of a one-liner; even split into two dozen CommonJS
// chunks (esbuild's code splitting) the start cost ~3 ms more than one file (a read, a compile and
// the cross-chunk export getters each). Why not a bundle per command, as before: they repeated the
// shared code (23 × ~450 KB in the package). Built from dist/ (tsc's output), so the bundle runs
// the very code the tests run. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'cli');

/**
 * commander's require of child_process (for executable subcommands, which tsbpf has none of) is made
 * lazy: loading child_process pulls in net and streams at every start.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'commander')}`) ? { path: 'lazy-child-process', namespace: 'tsbpf' } : undefined,
    );
    b.onLoad({ filter: /^lazy-child-process$/, namespace: 'tsbpf' }, () => ({
      contents: "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
      loader: 'js',
    }));
  },
};

/**
 * The CLI bundle. `external`: packages left to node_modules (the agent's libraries, for the
 * package; none for the agent's container image, which has no node_modules).
 */
export async function bundleCli(outfile, external = AGENT_LIBRARIES) {
  await build({
    stdin: { contents: "import { launch } from './src/cli/launch.js';\nlaunch(process.argv);\n", resolveDir: dist, sourcefile: 'tsbpf-entry.js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    // import.meta.url is how src/sys/native.ts and the tools find the addon and the .bpf.o files
    define: { 'import.meta.url': '__tsbpf_url' },
    banner: { js: "const __tsbpf_url = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [lazyChildProcess],
    external,
    // import() becomes a lazy module initialisation (bin/tsbpf compiles the bundle as a vm.Script, for
    // V8's code cache, where import() has no loader)
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
    legalComments: 'none',
    // identifiers kept: stack traces users send stay readable (full minifying saved no measurable start)
    minifyWhitespace: true,
    minifySyntax: true,
  });
}

// the agent's libraries stay in node_modules, required when the agent runs: bundled, their ~0.9 MB
// of functions would be in every command's start (source to read, code cache to deserialise)
const AGENT_LIBRARIES = ['@opentelemetry/*', 'prom-client', 'yaml'];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await bundleCli(join(out, 'tsbpf.cjs'));
}
