// The registry of file descriptors tsbpf owns. Every fd a wrapper creates is tracked here until its
// owner closes it, so tests can check nothing leaked and process exit closes what is left.
import { native } from './native.js';
import { onCleanup } from './cleanup.js';

/**
 * A file descriptor: a number the type system keeps apart from ids, counts and indexes, so that a
 * map id or an ifindex cannot be passed where the kernel expects an fd. Fds the kernel gives tsbpf
 * become one in trackFd; one from elsewhere (a socket of Node's, a test's pipe) through asFd.
 */
export type Fd = number & { readonly __kind: 'fd' };

/** A descriptor opened outside tsbpf, as an Fd (not tracked: its owner closes it). */
export function asFd(n: number): Fd {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${n} is not a file descriptor`);
  return n as Fd;
}

const owned = new Map<number, string>();
let closeAll: (() => void) | undefined;

/** Record that tsbpf owns `fd`, a descriptor the kernel just returned (what it is, for diagnostics). */
export function trackFd(fd: number, what: string): Fd {
  owned.set(fd, what);
  // Closing on exit is what the kernel does anyway; doing it ourselves orders it before other
  // exit-time cleanups (links go before the programs they hold).
  closeAll ??= onCleanup('close tsbpf file descriptors', () => {
    for (const f of [...owned.keys()].reverse()) native().close(f);
    owned.clear();
    closeAll = undefined;
  });
  return fd as Fd;
}

/** Close an fd tsbpf owns (no-op for negative fds). */
export function closeFd(fd: Fd | -1): void {
  if (fd < 0) return;
  owned.delete(fd);
  native().close(fd);
  if (owned.size === 0 && closeAll) {
    const done = closeAll;
    closeAll = undefined;
    done(); // nothing left: unregister (its action has nothing to close)
  }
}

/** The fds currently owned, with what they are. */
export function ownedFds(): Map<number, string> {
  return new Map(owned);
}
