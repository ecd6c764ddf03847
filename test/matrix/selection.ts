// Which test files run inside each guest: the ones whose outcome depends on the kernel (attach paths,
// feature probes, CO-RE, the tools' hook choice, program loading). Under TCG code runs 8–25× slower
// than on the host, so kernel-independent tests (parsers, the VM, formats) and the timing-sensitive
// load tests of the tools stay on the host only.
export const MATRIX_TESTS = [
  'dist/test/kernels/',
  'dist/test/link/',
  'dist/test/kernel/',
  'dist/test/object/kernel-load',
  // its kprobe/kfunc cases only, in a guest
  'dist/test/script/corpus.test',
];
