// Histogram text against outputs captured from the real programs: libbpf-tools' print_log2_hist /
// print_linear_hist (same printf formats, run as C) and bpftrace v0.17 (hist() and lhist() in BEGIN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatLog2Hist, formatLinearHist, formatBpftraceBuckets, formatBpftraceLinear, formatBpftraceHist,
  log2Slot, histTotal, bpftracePow2Label,
} from '../../src/output/hist.js';

test('bcc log2: narrow layout with the 40-star bar', () => {
  assert.equal(formatLog2Hist([1, 8, 138, 512, 1029, 16], 'usecs'), `     usecs               : count    distribution
         0 -> 1          : 1        |                                        |
         2 -> 3          : 8        |                                        |
         4 -> 7          : 138      |*****                                   |
         8 -> 15         : 512      |*******************                     |
        16 -> 31         : 1029     |****************************************|
        32 -> 63         : 16       |                                        |
`);
});

test('bcc log2: wide layout past slot 32 (20 stars, 20-column ranges)', () => {
  const slots = new Array(40).fill(0);
  slots[0] = 3; slots[5] = 10; slots[34] = 1;
  assert.equal(formatLog2Hist(slots, 'nsecs'), `               nsecs                         : count    distribution
                   0 -> 1                    : 3        |******              |
                   2 -> 3                    : 0        |                    |
                   4 -> 7                    : 0        |                    |
                   8 -> 15                   : 0        |                    |
                  16 -> 31                   : 0        |                    |
                  32 -> 63                   : 10       |********************|
                  64 -> 127                  : 0        |                    |
                 128 -> 255                  : 0        |                    |
                 256 -> 511                  : 0        |                    |
                 512 -> 1023                 : 0        |                    |
                1024 -> 2047                 : 0        |                    |
                2048 -> 4095                 : 0        |                    |
                4096 -> 8191                 : 0        |                    |
                8192 -> 16383                : 0        |                    |
               16384 -> 32767                : 0        |                    |
               32768 -> 65535                : 0        |                    |
               65536 -> 131071               : 0        |                    |
              131072 -> 262143               : 0        |                    |
              262144 -> 524287               : 0        |                    |
              524288 -> 1048575              : 0        |                    |
             1048576 -> 2097151              : 0        |                    |
             2097152 -> 4194303              : 0        |                    |
             4194304 -> 8388607              : 0        |                    |
             8388608 -> 16777215             : 0        |                    |
            16777216 -> 33554431             : 0        |                    |
            33554432 -> 67108863             : 0        |                    |
            67108864 -> 134217727            : 0        |                    |
           134217728 -> 268435455            : 0        |                    |
           268435456 -> 536870911            : 0        |                    |
           536870912 -> 1073741823           : 0        |                    |
          1073741824 -> 2147483647           : 0        |                    |
          2147483648 -> 4294967295           : 0        |                    |
          4294967296 -> 8589934591           : 0        |                    |
          8589934592 -> 17179869183          : 0        |                    |
         17179869184 -> 34359738367          : 1        |**                  |
`);
});

test('bcc log2: leading empty slots are printed, trailing ones are not; bigint counts', () => {
  assert.equal(formatLog2Hist([0n, 0n, 5n, 0n, 7n, 1n, 0n, 0n], 'msecs'), `     msecs               : count    distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 5        |****************************            |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 7        |****************************************|
        32 -> 63         : 1        |*****                                   |
`);
});

test('bcc linear: only non-empty rows', () => {
  assert.equal(formatLinearHist([0, 2, 0, 9, 4], 10, 5, 'usecs'), `     usecs         : count     distribution
        15         : 2        |********                                |
        25         : 9        |****************************************|
        30         : 4        |*****************                       |
`);
});

test('empty histograms print nothing', () => {
  assert.equal(formatLog2Hist([0, 0, 0], 'usecs'), '');
  assert.equal(formatLog2Hist([], 'usecs'), '');
  assert.equal(formatLinearHist([0], 0, 1, 'usecs'), '');
});

const bpftraceHist = `@x: 
[0]                    1 |@@@@@@@                                             |
[1]                    2 |@@@@@@@@@@@@@@                                      |
[2, 4)                 0 |                                                    |
[4, 8)                 3 |@@@@@@@@@@@@@@@@@@@@@@                              |
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              7 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[128, 256)             0 |                                                    |
[256, 512)             0 |                                                    |
[512, 1K)              0 |                                                    |
[1K, 2K)               1 |@@@@@@@                                             |

`;

const bpftraceLhist = `@l: 
[0, 10)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[10, 20)               0 |                                                    |
[20, 30)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[30, 40)               0 |                                                    |
[40, 50)               0 |                                                    |
[50, 60)               0 |                                                    |
[60, 70)               0 |                                                    |
[70, 80)               0 |                                                    |
[80, 90)               0 |                                                    |
[90, 100)              0 |                                                    |
[100, ...)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |

`;

test('bpftrace hist(): byte for byte as bpftrace prints it', () => {
  // bpftrace buckets: 0 negative, 1 value 0, 2 value 1, k>=3 [2^(k-2), 2^(k-1))
  const b = new Array(14).fill(0);
  b[1] = 1; b[2] = 2; b[4] = 3; b[8] = 7; b[12] = 1;
  assert.equal(formatBpftraceBuckets('@x', b), bpftraceHist);
});

test('bpftrace lhist(): byte for byte as bpftrace prints it', () => {
  const b = new Array(12).fill(0);
  b[1] = 1; b[3] = 2; b[11] = 1;
  assert.equal(formatBpftraceLinear('l', b, 0, 100, 10), bpftraceLhist);
});

test('bpftrace layout of log2 slots', () => {
  const out = formatBpftraceHist('usecs', [2, 0, 4, 1]);
  assert.equal(out.split('\n')[0], '@usecs: ');
  assert.match(out, /^\[0, 2\)\s+2 \|@{26}\s{26}\|$/m);
  assert.match(out, /^\[4, 8\)\s+4 \|@{52}\|$/m);
  assert.match(out, /^\[8, 16\)\s+1 \|@{13}\s{39}\|$/m);
});

test('log2Slot matches the kernel programs and labels scale with K/M/G', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 7, 8, 1023, 1024].map((v) => log2Slot(v)), [0, 0, 1, 1, 2, 2, 3, 9, 10]);
  assert.equal(log2Slot(1n << 40n), 40);
  assert.equal(histTotal([1, 2n, 3]), 6);
  assert.deepEqual([0, 9, 10, 19, 20, 30, 40].map(bpftracePow2Label), ['1', '512', '1K', '512K', '1M', '1G', '1T']);
});
