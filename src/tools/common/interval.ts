// The interval loop of the summarizing tools: print every `interval` seconds (clearing in between),
// `count` times, or once at Ctrl+C / --duration; the last print never clears.
export async function histInterval(signal: AbortSignal, interval: number | undefined, count: number | undefined, print: (last: boolean) => void): Promise<void> {
  const wait = (ms: number) =>
    new Promise<void>((res) => {
      if (signal.aborted) return res();
      const t = setTimeout(res, ms);
      signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
    });
  if (!interval) {
    await wait(2 ** 31 - 1);
    while (!signal.aborted) await wait(2 ** 31 - 1);
    print(true);
    return;
  }
  for (let i = 1; ; i++) {
    await wait(interval * 1000);
    const last = signal.aborted || (count !== undefined && i >= count);
    print(last);
    if (last) return;
  }
}
