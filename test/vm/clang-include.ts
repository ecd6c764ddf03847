// Where <asm/types.h> lives for this machine's architecture (Debian multiarch): the kernel UAPI
// headers the test programs include need it.
export const MULTIARCH_INCLUDE = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : process.arch === 'x64' ? 'x86_64' : process.arch}-linux-gnu`;
