/**
 * Playwright's own timings of a run, for `npm run bench`: added after the configured reporters
 * (PW_TEST_REPORTER), so the run is otherwise the one a user makes. Writes JSON to BENCH_PHASES_FILE
 * on exit, when every other reporter has finished.
 */
import fs from 'node:fs';
import type { FullResult, Reporter, TestCase, TestResult, TestStep } from '@playwright/test/reporter';

export type Phases = {
  configured: number;
  began: number;
  /** When onEnd reached this reporter (the last): the other reporters' onEnd is done. */
  reported: number;
  exited: number;
  /** The runner's own end of the run (Playwright's FullResult: before any reporter's onEnd). */
  runEnd: number;
  tests: {
    title: string;
    start: number;
    end: number;
    worker: number;
    status: string;
    expected: boolean;
    fixtures: Step[];
  }[];
};
export type Step = { title: string; start: number; end: number };

export default class PhasesReporter implements Reporter {
  private readonly phases: Phases = { configured: 0, began: 0, reported: 0, exited: 0, runEnd: 0, tests: [] };
  private readonly fixtures = new Map<TestResult, Step[]>();

  // The runner's own interface (v2): onConfigure comes before the global setup.
  version(): 'v2' {
    return 'v2';
  }

  printsToStdio() {
    return false;
  }

  onConfigure() {
    this.phases.configured = Date.now();
  }

  onBegin() {
    this.phases.began = Date.now();
  }

  onStepEnd(_test: TestCase, result: TestResult, step: TestStep) {
    if (step.category !== 'fixture') return;
    const start = step.startTime.getTime();
    const list = this.fixtures.get(result) ?? this.fixtures.set(result, []).get(result)!;
    list.push({ title: step.title, start, end: start + step.duration });
  }

  onTestEnd(test: TestCase, result: TestResult) {
    const start = result.startTime.getTime();
    this.phases.tests.push({
      title: test.title,
      start,
      end: start + result.duration,
      worker: result.workerIndex,
      status: result.status,
      expected: result.status === test.expectedStatus && result.status !== 'skipped',
      fixtures: this.fixtures.get(result) ?? [],
    });
  }

  onEnd(result: FullResult) {
    this.phases.reported = Date.now();
    this.phases.runEnd = result.startTime.getTime() + result.duration;
  }

  async onExit() {
    this.phases.exited = Date.now();
    const file = process.env.BENCH_PHASES_FILE;
    if (file) fs.writeFileSync(file, JSON.stringify(this.phases));
  }
}
