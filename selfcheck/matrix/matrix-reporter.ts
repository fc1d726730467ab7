import fs from 'node:fs';
import path from 'node:path';
import type { FullResult, Reporter, Suite, TestCase } from '@playwright/test/reporter';
import { toRecord } from '../../fixtures/reporting/records';
import type { TestRecord } from '../../fixtures/reporting/verdict';
import { faults } from '../../reference-api/faults';

/**
 * Judges the fault matrix: a fault is caught when a failing test records a typed violation
 * (`qr-violation`) naming the clause the fault breaks. A crash or a timeout names no clause, whatever
 * the test's tags, and an environment failure (not reachable, rate-limiting) catches nothing. The faithful API and every variant must pass.
 */
export type MatrixRow = {
  project: string;
  kind: 'faithful' | 'variant' | 'fault';
  expected?: string;
  ok: boolean;
  caughtBy: string[];
  note: string;
  tests: number;
};

const failed = (r: TestRecord) => r.status === 'failed' || r.status === 'timedOut';
/** The clauses a failing test counts for: those its typed violations name, never its tags (a crash names none). */
const blamed = (r: TestRecord) => (r.environmentFailure ? [] : r.violations);

export function judgeProject(project: string, records: TestRecord[]): MatrixRow {
  const kind = project === 'faithful' ? 'faithful' : (project.split(':')[0] as 'variant' | 'fault');
  const failing = records.filter(failed);
  const caughtBy = [...new Set(failing.flatMap(blamed))];
  const tests = records.length;
  if (kind !== 'fault') {
    const passed = records.filter((r) => r.status === 'passed').length;
    const ok = failing.length === 0 && passed > 0;
    const note = ok
      ? ''
      : failing.length
        ? failing.map((r) => `${r.title}: ${r.message.slice(0, 160)}`).join('; ')
        : 'no test passed';
    return { project, kind, ok, caughtBy, note, tests };
  }
  const expected = faults[project.slice('fault:'.length) as keyof typeof faults].clause;
  const ok = caughtBy.includes(expected);
  const note = ok
    ? ''
    : failing.length
      ? `failing tests name ${caughtBy.join(', ') || 'no clause'}, not ${expected}`
      : 'the suite passed';
  return { project, kind, expected, ok, caughtBy, note, tests };
}

export default class MatrixReporter implements Reporter {
  private suite!: Suite;
  private readonly started = Date.now();

  printsToStdio() {
    return true;
  }

  onBegin(_config: unknown, suite: Suite) {
    this.suite = suite;
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    const byProject = new Map<string, TestCase[]>();
    for (const t of this.suite.allTests()) {
      const name = t.parent.title;
      byProject.set(name, [...(byProject.get(name) ?? []), t]);
    }
    const rows = [...byProject].map(([project, tests]) => judgeProject(project, tests.map(toRecord)));
    const faultRows = rows.filter((r) => r.kind === 'fault');
    const passRows = rows.filter((r) => r.kind !== 'fault');
    const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const text = [
      '| fault | expected clause | caught by (clauses its violations name) | verdict |',
      '| --- | --- | --- | --- |',
      ...faultRows.map(
        (r) =>
          `| ${r.project.slice(6)} | ${r.expected} | ${r.caughtBy.join(', ') || '-'} | ${r.ok ? 'caught' : `NOT CAUGHT: ${cell(r.note)}`} |`,
      ),
      '',
      '| server | result | tests | failing tests |',
      '| --- | --- | --- | --- |',
      ...passRows.map(
        (r) => `| ${r.project} | ${r.ok ? 'passed' : 'FAILED'} | ${r.tests} | ${r.ok ? '-' : cell(r.note)} |`,
      ),
      '',
      `${rows.length} servers, ${this.suite.allTests().length} tests, ${((Date.now() - this.started) / 1000).toFixed(1)} s`,
      `faults caught ${faultRows.filter((r) => r.ok).length}/${faultRows.length}, faithful variants passed ${passRows.filter((r) => r.ok && r.kind === 'variant').length}/${passRows.filter((r) => r.kind === 'variant').length}, faithful API ${passRows.find((r) => r.kind === 'faithful')?.ok ? 'passed' : 'FAILED'}`,
    ].join('\n');
    const out = path.resolve(__dirname, '..', '..', 'selfcheck-results');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'fault-matrix.md'), `# Fault matrix\n\n${text}\n`);
    const bad = rows.filter((r) => !r.ok);
    console.log(
      `\n${bad.length ? `${bad.map((r) => `✘ ${r.project}: ${r.note}`).join('\n')}\n` : ''}${text.split('\n').slice(-2).join('\n')}`,
    );
    const status = bad.length || !rows.length ? 'failed' : result.status === 'interrupted' ? 'interrupted' : 'passed';
    return status !== result.status ? { status } : undefined;
  }
}
