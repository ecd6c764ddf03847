// The N-API addon (native/tsbpf.c), loaded once. Every function returns its result or -errno; the
// callers in src/sys/ turn a negative result into a SyscallError. Only src/sys/ imports this file.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Bytes = ArrayBufferView | ArrayBuffer;

export interface Native {
  /** quiet: profilers' timer signals held back during the call (see native/tsbpf.c) */
  bpf(cmd: number, attr: Bytes, quiet?: boolean): number;
  /** register an attr used again and again (kept alive until bpfRelease): its slot, or -errno */
  bpfPrepare(attr: Uint8Array): number;
  bpfRelease(slot: number): number;
  /** bpf(cmd, the attr of `slot`): slotAndCmd = slot * 256 + cmd */
  bpfSlot(slotAndCmd: number): number;
  addressOf(bytes: Bytes): bigint;
  perfEventOpen(attr: Bytes, pid: number, cpu: number, groupFd: number, flags: number): number;
  ioctl(fd: number, request: number, arg: number | bigint | Bytes): number;
  close(fd: number): number;
  open(path: string, flags: number): number;
  read(fd: number, bytes: Bytes): number;
  write(fd: number, bytes: Bytes): number;
  mmap(fd: number, length: number, prot: number, flags: number, offset: number): ArrayBuffer | number;
  munmap(buffer: ArrayBuffer): number;
  poll(fd: number, events: number, callback: (status: number, events: number) => void): object | number;
  pollStop(handle: object): number;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, bytes: Bytes): number;
  getsockopt(fd: number, level: number, name: number, bytes: Bytes): number;
  bind(fd: number, sockaddr: Bytes): number;
  sendto(fd: number, bytes: Bytes, flags: number, addr: Bytes | null): number;
  recvfrom(fd: number, bytes: Bytes, flags: number, addr: Bytes | null): number;
  mount(source: string, target: string, fstype: string, flags: number): number;
  setns(fd: number, nstype: number): number;
  clockGettime(clockid: number): bigint | number;
  strerror(errno: number): [name: string, message: string];
  gettid(): number;
}

/** The package root: the first directory above this file holding package.json (src/sys or dist/src/sys). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`tsbpf: no package.json above ${from}`);
    dir = up;
  }
}

let loaded: Native | undefined;

/**
 * The addon, loaded on first use (so pure users of the library never need it): build/Release when
 * built from source, else the package's prebuilds/<platform>-<arch>/ (node-gyp-build's rule, the
 * one native/install.cjs checked at install).
 */
export function native(): Native {
  if (loaded) return loaded;
  const root = packageRoot();
  const require = createRequire(import.meta.url);
  // node-gyp-build's own order and names, for the two files this package can have: looked up here
  // first because loading node-gyp-build costs ~2 ms of every tool's start (architecture from
  // npm_config_arch as node-gyp-build takes it)
  const arch = process.env.npm_config_arch || process.arch;
  let path = [join(root, 'build', 'Release', 'tsbpf.node'), join(root, 'prebuilds', `${process.platform}-${arch}`, 'tsbpf.napi.node')].find((p) => existsSync(p));
  if (!path) {
    try {
      path = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
    } catch (e) {
      // node-gyp-build names the platform and architecture it looked for
      const why = process.platform === 'linux' ? `no prebuilt addon for this machine and none built from source (${(e as Error).message.split('\n')[0]})` : `the kernel API needs Linux (this is ${process.platform})`;
      throw new Error(`native addon not available: ${why}; tsbpf/vm works without it`);
    }
  }
  loaded = require(path) as Native;
  return loaded;
}
