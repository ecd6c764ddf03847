// Go reference programs (bench/go/NAME/main.go) built against Debian's cilium/ebpf
// (golang-github-cilium-ebpf-dev under /usr/share/gocode): GOPATH mode, offline, into bench/bin/
// (ignored by git). Rebuilt when a source is newer than the binary.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../report.js';

export const GOPATH = '/usr/share/gocode';

/** cilium/ebpf's version, as Debian packages it. */
export function ciliumVersion(): string {
  try {
    const log = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'golang-github-cilium-ebpf-dev'], { encoding: 'utf8' });
    return log.trim().replace(/-.*$/, '');
  } catch {
    return 'unknown';
  }
}

export function buildGo(name: string): string {
  const src = join(root, 'bench/go', name);
  const dir = join(root, 'bench/bin');
  const out = join(dir, `go-${name}`);
  if (!existsSync(join(GOPATH, 'src/github.com/cilium/ebpf'))) {
    throw new Error('cilium/ebpf is not installed: apt-get install -y golang-go golang-github-cilium-ebpf-dev');
  }
  mkdirSync(dir, { recursive: true });
  const newest = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
  if (!existsSync(out) || statSync(out).mtimeMs < newest) {
    execFileSync('go', ['build', '-o', out, '.'], {
      cwd: src,
      stdio: 'inherit',
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'go-cache') },
    });
  }
  return out;
}
