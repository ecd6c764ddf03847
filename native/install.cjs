// npm's install step for tsbpf: the N-API addon from prebuilds/<platform>-<arch>/ when one loads
// here (linux-x64 and linux-arm64 ship in the package: no compiler needed), else built from source
// with node-gyp. Where neither works (no compiler, another OS) the install still succeeds: the
// userspace runtime (`tsbpf/vm`: verifier, interpreter, JIT, filter and script compilers) needs no
// addon, and the kernel API says what is missing when it is first used (src/sys/native.ts).
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { existsSync, statSync } = require('node:fs');

const SOURCES = ['native/tsbpf.c', 'binding.gyp'];

const root = join(__dirname, '..');
const platform = process.env.npm_config_platform || process.platform;

function loads() {
  try {
    const file = require('node-gyp-build').resolve(root);
    // one built here from an older native/ source (a checkout that pulled new C) is built again:
    // loading it would fail later, at the first function it lacks
    const sources = SOURCES.map((f) => join(root, f)).filter((f) => existsSync(f));
    if (file.startsWith(join(root, 'build')) && sources.some((f) => statSync(f).mtimeMs > statSync(file).mtimeMs)) return false;
    require(file);
    return true;
  } catch {
    return false;
  }
}

if (platform !== 'linux') {
  console.error(`tsbpf: no native addon on ${platform}: the kernel API needs Linux; tsbpf/vm (verifier, interpreter, JIT, compilers) works here`);
} else if (!loads()) {
  // npm gives lifecycle scripts the path of its own node-gyp
  const gyp = process.env.npm_config_node_gyp;
  const r = gyp ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, stdio: 'inherit' }) : spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('tsbpf: the native addon could not be built here (no prebuilt one for this platform, and no C compiler or Node headers to build it):');
    console.error('tsbpf: the kernel API (loading programs, maps, attaching) is unavailable; tsbpf/vm works. Install gcc, make and python3 and reinstall to build it.');
  }
}
