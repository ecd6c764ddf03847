#!/usr/bin/env node
// Compiles every src/tools/**/*.bpf.c and examples/**/*.bpf.c into the .bpf.o beside it (committed,
// so running a tool needs no clang), and records what each object was built from in
// src/tools/objects.json, so a test can tell a stale object from a different build machine.
//
//   node scripts/build-bpf.js            build all objects in place (llvm-strip -g: BTF, no DWARF)
//   node scripts/build-bpf.js --out DIR  build into DIR (same relative paths), nothing in place
//   node scripts/build-bpf.js --check    exit 1 if a source changed since its object was built
//   node scripts/build-bpf.js FILTER...  only sources whose path contains one of FILTER
//
// vmlinux.h goes to build/vmlinux/vmlinux.h: written by tsbpf's own btfToC when it is built
// (dist/src/btf/cdump.js), else by `bpftool btf dump file /sys/kernel/btf/vmlinux format c`.
// Output is deterministic: sources are compiled from their own directory with relative names and
// the debug prefix of the repository mapped to ".", so the same inputs give the same bytes.
import { readdirSync, statSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, relative, dirname, basename, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const manifestPath = join(root, 'src/tools/objects.json');
const commonDir = join(root, 'src/tools/common');

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function findSources(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findSources(p));
    else if (name.endsWith('.bpf.c')) out.push(p);
  }
  return out;
}

/** The quoted includes of a source, resolved in its directory then src/tools/common, recursively. */
function localIncludes(file, seen = new Set()) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
    if (m[1] === 'vmlinux.h') continue;
    for (const dir of [dirname(file), commonDir]) {
      const p = join(dir, m[1]);
      if (existsSync(p) && !seen.has(p)) {
        seen.add(p);
        localIncludes(p, seen);
        break;
      }
    }
  }
  return seen;
}

/** Hash of everything a source's object depends on besides vmlinux.h and clang: itself and its headers. */
function sourceHash(file) {
  const h = createHash('sha256');
  for (const p of [file, ...[...localIncludes(file)].sort()]) {
    h.update(relative(root, p)).update('\0').update(readFileSync(p)).update('\0');
  }
  return h.digest('hex');
}

async function vmlinuxHeader(dir) {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'vmlinux.h');
  let text;
  let generator;
  const cdump = join(root, 'dist/src/btf/cdump.js');
  const parse = join(root, 'dist/src/btf/parse.js');
  if (existsSync(cdump) && existsSync(parse) && !process.env.TSBPF_VMLINUX_BPFTOOL) {
    try {
      const { btfToC } = await import(cdump);
      const parser = await import(parse);
      const raw = new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux'));
      const btf = (parser.parseBtf ?? parser.parse)(raw);
      text = btfToC(btf);
      generator = 'tsbpf btfToC';
    } catch (err) {
      process.stderr.write(`build-bpf: tsbpf btfToC failed (${err.message}); using bpftool\n`);
    }
  }
  if (text === undefined) {
    text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    generator = 'bpftool';
  }
  writeFileSync(out, text);
  return { path: out, sha256: sha256(text), generator };
}

function clangVersion() {
  return execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
}

function compile(src, obj, vmlinuxDir) {
  mkdirSync(dirname(obj), { recursive: true });
  execFileSync(
    'clang',
    [
      '-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86',
      `-I${relative(dirname(src), vmlinuxDir) || '.'}`,
      `-I${relative(dirname(src), commonDir) || '.'}`,
      `-fdebug-prefix-map=${root}=.`,
      `-fdebug-prefix-map=${dirname(src)}=.`,
      '-fno-ident',
      '-c', basename(src), '-o', obj,
    ],
    { cwd: dirname(src), stdio: ['ignore', 'inherit', 'inherit'] },
  );
  // -g is for BTF; the DWARF beside it (~600 KB for a tool that includes vmlinux.h) is read by
  // nothing and would be read and hashed at every start. llvm-strip -g keeps .BTF and .BTF.ext, as
  // libbpf-tools' build does.
  execFileSync('llvm-strip', ['-g', obj], { stdio: ['ignore', 'inherit', 'inherit'] });
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return { objects: {} };
  }
}

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? resolve(args[outIdx + 1]) : undefined;
  const filters = args.filter((a, i) => !a.startsWith('--') && (outIdx < 0 || i !== outIdx + 1));
  const sources = [...findSources(join(root, 'src/tools')), ...findSources(join(root, 'examples'))].filter(
    (s) => !filters.length || filters.some((f) => s.includes(f)),
  );

  if (check) {
    const manifest = readManifest();
    let stale = 0;
    for (const src of sources) {
      const rel = relative(root, src);
      const entry = manifest.objects[rel];
      const obj = src.replace(/\.c$/, '.o');
      if (!entry || entry.source !== sourceHash(src) || !existsSync(obj) || sha256(readFileSync(obj)) !== entry.object) {
        process.stderr.write(`stale: ${rel} (run node scripts/build-bpf.js)\n`);
        stale++;
      }
    }
    process.exit(stale ? 1 : 0);
  }

  const vmlinux = await vmlinuxHeader(join(root, 'build/vmlinux'));
  const manifest = outDir ? { objects: {} } : readManifest();
  manifest.clang = clangVersion();
  manifest.vmlinux = { sha256: vmlinux.sha256, generator: vmlinux.generator };
  for (const src of sources) {
    const rel = relative(root, src);
    const obj = outDir ? join(outDir, rel.replace(/\.c$/, '.o')) : src.replace(/\.c$/, '.o');
    compile(src, obj, dirname(vmlinux.path));
    manifest.objects[rel] = { source: sourceHash(src), object: sha256(readFileSync(obj)) };
    process.stdout.write(`${relative(root, obj)}\n`);
  }
  const sorted = Object.fromEntries(Object.entries(manifest.objects).sort(([a], [b]) => a.localeCompare(b)));
  const text = `${JSON.stringify({ clang: manifest.clang, vmlinux: manifest.vmlinux, objects: sorted }, null, 2)}\n`;
  if (outDir) writeFileSync(join(outDir, 'objects.json'), text);
  else writeFileSync(manifestPath, text);
}

main().catch((err) => {
  process.stderr.write(`build-bpf: ${err.message}\n`);
  process.exit(1);
});
