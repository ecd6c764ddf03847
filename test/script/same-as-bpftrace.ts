// Deterministic scripts and their whole output, as bpftrace 0.17 prints it: run in the kernel
// (runtime.test.ts, and by bpftrace itself there) and in the VM (vm.test.ts).
export const SAME_AS_BPFTRACE: [string, string][] = [
  [
    'BEGIN { @c[1] = count(); @c[2] = count(); @c[2]=count(); @m = 5; @k["x", 3] = sum(7); @h[1] = hist(100); @h[1] = hist(3); @h[2]=hist(1); @n = min(-3); @mx=max(9); @a[5]=avg(10); @a[5]=avg(5); @st["q"]=stats(7); @l = lhist(15, 0, 100, 10); @s = "str"; @t = (1, "two"); exit() }',
    `Attaching 1 probe...


@a[5]: 7

@c[1]: 1
@c[2]: 2
@h[2]: 
[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@h[1]: 
[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[4, 8)                 0 |                                                    |
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@k[x, 3]: 7
@l: 
[10, 20)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@m: 5
@mx: 9
@n: -3
@s: str
@st[q]: count 1, average 7, total 7

@t: (1, two)
`,
  ],
  ['BEGIN { @c[1] = count(); delete(@c[1]); @d = 1; exit() }', 'Attaching 1 probe...\n\n\n\n@d: 1\n'],
  ['BEGIN { @a[1] = avg(3); @a[2]=avg(5); @a[0] = avg(1); @b = 1; exit() }', 'Attaching 1 probe...\n\n\n@a[0]: 1\n@a[1]: 3\n@a[2]: 5\n\n@b: 1\n'],
  ['BEGIN { @s[3] = 5; @s[1] = 9; @s[2] = 1; exit() }', 'Attaching 1 probe...\n\n\n@s[2]: 1\n@s[3]: 5\n@s[1]: 9\n'],
  ['BEGIN { @s = stats(5); @s = stats(10); @mn = min(5); @mn = min(2); exit() }', 'Attaching 1 probe...\n\n\n@mn: 2\n@s: count 2, average 7, total 15\n\n'],
  [
    'BEGIN { @x = 1; printf("%d %s|%-6s|%5d|%x|%c|%u\\n", -5, "ab", "cd", 42, 255, 65, -1); exit() }',
    'Attaching 1 probe...\n-5 ab|cd    |   42|ff|A|4294967295\n\n\n@x: 1\n',
  ],
  ['BEGIN { print(3); print("x"); print((1,"a")); exit() }', 'Attaching 1 probe...\n3\nx\n(1, a)\n\n\n'],
  ['BEGIN { printf("a\\n"); exit() } END { printf("end\\n") }', 'Attaching 2 probes...\na\nend\n\n\n'],
];
