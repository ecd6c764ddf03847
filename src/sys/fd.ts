// The Fd type on its own: the public API exports this module (a library user's `Program.fromFd(asFd(n))`)
// without making the registry of owned descriptors in fds.ts public to the tools.
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
