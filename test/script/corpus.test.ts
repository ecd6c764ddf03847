// The script-language corpus (test/script/corpus/*.cases, format in corpus/cases.ts): every case run
// through `tsbpf trace` as users run it and judged by what it expects. Cases needing a kernel feature
// this kernel lacks (kprobes, fentry) run in the kernel matrix's guests, where only those cases run
// (TSBPF_CORPUS_ALL=1: all of them).
//
// Differential mode (TSBPF_CORPUS_BPFTRACE=1): each case also runs under bpftrace, and the cases where
// the two tools disagree are listed; the results go to $MATRIX_OUT/corpus-<kernel>.json in a guest,
// dist/corpus-host.json here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fentry, hasKprobes } from '../../src/kernel/features.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';
import { CLI } from '../net-tools/topology.js';
import { parseCases, type CorpusCase } from './corpus/cases.js';
import { runCase, type CaseRun } from './corpus/run.js';

const DIR = fileURLToPath(new URL('../../../test/script/corpus/', import.meta.url));
const TRACE = [process.execPath, ...CLI, 'trace'];

function allCases(): CorpusCase[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.cases')).sort().flatMap((f) => parseCases(readFileSync(join(DIR, f), 'utf8'), f));
}

/** Whether this kernel has what the case needs. */
function applies(c: CorpusCase): boolean {
  return c.requires.every((r) => (r === 'kprobes' ? hasKprobes() : r === 'fentry' ? fentry().ok : true));
}

const report = (r: CaseRun): string => `${r.why.join('; ')}\n--- stdout\n${r.out}--- stderr\n${r.err}`;

test('script corpus: every case shows what it expects', { concurrency: 3 }, async (t) => {
  if (!needsRoot(t)) return;
  const cases = allCases();
  // in the kernel matrix's guests (8–25× slower) only the cases that depend on the kernel run
  const guest = process.env.TSBPF_GUEST_KERNEL !== undefined && process.env.TSBPF_CORPUS_ALL !== '1';
  const here = cases.filter((c) => applies(c) && (!guest || c.requires.some((r) => r === 'kprobes' || r === 'fentry')));
  t.diagnostic(`${cases.length} cases, ${here.length} apply to this kernel`);
  const differential = process.env.TSBPF_CORPUS_BPFTRACE === '1' && needsCommand(t, 'bpftrace');
  const results: { file: string; name: string; tsbpf: boolean; bpftrace?: boolean; why: string[] }[] = [];
  // the cases run side by side (the test's concurrency): most wait on a timer or a workload
  const runs: Promise<unknown>[] = [];
  for (const c of here) {
    runs.push(t.test(`${c.file}: ${c.name}`, async () => {
      const ours = await runCase(TRACE, c);
      let theirs: CaseRun | undefined;
      if (differential) theirs = await runCase(['bpftrace'], c);
      results.push({ file: c.file, name: c.name, tsbpf: ours.pass, bpftrace: theirs?.pass, why: ours.why });
      assert.ok(ours.pass, `${c.file}:${c.line} ${c.name}: ${report(ours)}`);
    }));
  }
  await Promise.all(runs);
  if (differential) {
    const differ = results.filter((r) => r.bpftrace !== r.tsbpf && !cases.find((c) => c.name === r.name && c.file === r.file)?.requires.includes('bpftrace-differs'));
    for (const d of differ) t.diagnostic(`differs: ${d.file}: ${d.name}: tsbpf ${d.tsbpf ? 'passes' : 'fails'}, bpftrace ${d.bpftrace ? 'passes' : 'fails'}`);
    const kernel = process.env.TSBPF_GUEST_KERNEL ?? 'host';
    const out = process.env.MATRIX_OUT ? join(process.env.MATRIX_OUT, `corpus-${kernel}.json`) : repoPath('dist', `corpus-${kernel}.json`);
    writeFileSync(out, JSON.stringify(results, null, 1));
  }
});

test('corpus files parse, and malformed ones are refused with file and line', () => {
  assert.ok(allCases().length > 0);
  assert.throws(() => parseCases('NAME x\nPROG BEGIN { exit() }\n', 'f.cases'), /f\.cases:\d+: case "x": nothing expected/);
  assert.throws(() => parseCases('NAME x\nBOGUS y\n', 'g.cases'), /g\.cases:2: not a KEY value line/);
  assert.throws(() => parseCases('NAME x\nPROG p\nEXPECT a\n\nNAME x\nPROG q\nEXPECT b\n', 'h.cases'), /case "x" twice/);
  assert.throws(() => parseCases('NAME x\nPROG p\nEXPECT_REGEX (\n', 'i.cases'), /i\.cases:3: bad regular expression/);
  assert.throws(() => parseCases("NAME x\nARGS -c 'a\nEXPECT b\n", 'j.cases'), /unterminated quote/);
});
