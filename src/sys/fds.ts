// The registry of file descriptors tsbpf owns. Every fd a wrapper creates is tracked here until its
// owner closes it, so tests can check nothing leaked and process exit closes what is left.
import { native } from './native.js';
import { onCleanup } from './cleanup.js';

// Fd and asFd live in fd.ts, which the public API exports; this module's registry stays internal.
export { asFd, type Fd } from './fd.js';
import type { Fd } from './fd.js';

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
