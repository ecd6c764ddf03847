// File-descriptor system calls for the kernel-runtime layer (tracefs files, trace_pipe, iterator
// fds, mmapped buffers, sockets), so that only src/sys/ touches the native addon.
import { fstatSync } from 'node:fs';
import { SyscallError } from './errors.js';
import type { Fd } from './fds.js';
import { native } from './native.js';

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 2;

/** open(2) (O_CLOEXEC is always added); throws SyscallError. The caller owns the fd. */
export function openFile(path: string, flags: number, hint?: string): Fd {
  const fd = native().open(path, flags);
  if (fd < 0) throw new SyscallError('open', -fd, `open ${path}`, hint);
  return fd as Fd;
}

/** read(2): bytes read, 0 at end, or -errno (EAGAIN on an empty non-blocking fd). */
export function readFd(fd: Fd, buf: Uint8Array): number {
  return native().read(fd, buf);
}

/** write(2) of all of `bytes` in one call; throws SyscallError. */
export function writeFd(fd: Fd, bytes: Uint8Array, what: string): void {
  const r = native().write(fd, bytes);
  if (r < 0) throw new SyscallError('write', -r, what);
}

/** close(2) of an fd not in the tsbpf registry (use closeFd for tracked ones). */
export function closeRaw(fd: Fd): void {
  native().close(fd);
}

/** mmap(2) MAP_SHARED of an fd; the pages stay mapped until munmap() or garbage collection. */
export function mmapShared(fd: Fd, length: number, prot: number, offset: number, what: string): ArrayBuffer {
  const r = native().mmap(fd, length, prot, MAP_SHARED, offset);
  if (typeof r === 'number') throw new SyscallError('mmap', -r, what);
  return r;
}

/**
 * A whole file mapped read-only and private, or undefined where the kernel refuses to map it (an
 * empty size, a sysfs file on an older kernel): the caller reads it instead.
 */
export function mapFileReadOnly(path: string): Uint8Array | undefined {
  const fd = native().open(path, O_RDONLY);
  if (fd < 0) return undefined;
  try {
    const size = fstatSync(fd).size;
    if (!size) return undefined;
    const r = native().mmap(fd, size, PROT_READ, MAP_PRIVATE, 0);
    return typeof r === 'number' ? undefined : new Uint8Array(r);
  } catch {
    return undefined;
  } finally {
    native().close(fd);
  }
}

/** munmap now (and detach the ArrayBuffer). */
export function munmap(buffer: ArrayBuffer): void {
  native().munmap(buffer);
}

/** setsockopt(2); throws SyscallError. */
export function setSockOpt(fd: Fd, level: number, name: number, value: Uint8Array | Int32Array, what: string): void {
  const r = native().setsockopt(fd, level, name, value);
  if (r < 0) throw new SyscallError('setsockopt', -r, what);
}
