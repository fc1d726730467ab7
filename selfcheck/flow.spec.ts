/**
 * Flow control against servers that answer some requests and not others, or not too many at once. Creates that stop
 * answering while reads answer end the run about one request timeout later: the first unanswered create fails
 * create-201, every test that needs a group or sends a create is skipped naming it, and the API gets no create after
 * the stop. A server that allows 4 requests in flight and answers 429 beyond them gets fewer: the run lowers its
 * concurrency and passes whole. Four runs at once, each one worker: the stalls and the faithful run they are compared
 * with as smoke runs, the limited API's in full.
 */
import fs from 'node:fs';
import path from 'node:path';
import { firstAnnotation } from '../fixtures/contract/annotations';
import type { ReferenceApiOptions } from '../reference-api/server';
import { test as base, expect, pointAt, type ServedApi, type SuiteRun } from './fixtures';

const TIMEOUT_MS = 2_000;
const CREATE_PATH = '/quran-reflect/v1/rooms/groups';

/** The API's own record of its create requests: when each came, and when its connection let go of it. */
function watchCreates(api: ServedApi) {
  const creates: { at: number; closed?: number }[] = [];
  api.server.prependListener('request', (req, res) => {
    if (req.method !== 'POST' || req.url !== CREATE_PATH) return;
    const c: { at: number; closed?: number } = { at: Date.now() };
    creates.push(c);
    res.on('close', () => (c.closed = Date.now()));
  });
  return creates;
}

/** In flight at the API over the run: each request's arrival with how many were in flight then, and each 429. */
function watchInFlight(api: ServedApi) {
  let inFlight = 0;
  const arrivals: { at: number; inFlight: number }[] = [];
  const limited: number[] = [];
  api.server.prependListener('request', (_req, res) => {
    arrivals.push({ at: Date.now(), inFlight: ++inFlight });
    res.on('close', () => {
      inFlight--;
      if (res.statusCode === 429) limited.push(Date.now());
    });
  });
  return { arrivals, limited };
}

type Stalled = { run: SuiteRun; creates: { at: number; closed?: number }[]; stoppedAt?: number };
type Flow = {
  faithful: SuiteRun;
  stalled: Record<'creates-never-answer' | 'creates-hang-after-first', Stalled>;
  limited: { run: SuiteRun; arrivals: { at: number; inFlight: number }[]; limited: number[] };
};

const test = base.extend<{ flow: Flow }>({
  flow: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(
      await once('flow', async () => {
        const serve = async (name: string, options: ReferenceApiOptions) => {
          const api = await shareReferenceApi(options);
          const token = api.issueAccessToken({ sub: `user-${name}`, clientId: 'c', scope: 'room' });
          return { api, env: { ...pointAt('LOCAL', api.origin, { clientId: 'c', accessToken: token }) } };
        };
        const local = ['--project=local'];
        // The stalls and the faithful run they are compared with: smoke runs (its creates, its group, its reads).
        const smoke = [...local, '--grep', '@smoke'];
        const stall = async (fault: 'creates-never-answer' | 'creates-hang-after-first'): Promise<Stalled> => {
          const { api, env } = await serve(fault, { fault });
          const creates = watchCreates(api);
          const run = await shareRun(fault, smoke, { ...env, QR_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) });
          const stopFile = path.join(run.outputDir, '.run', 'local', 'creates-stopped.json');
          const stoppedAt = fs.existsSync(stopFile) ? JSON.parse(fs.readFileSync(stopFile, 'utf8')).at : undefined;
          return { run, creates, stoppedAt };
        };
        const limit = async () => {
          const { api, env } = await serve('limited', { variant: 'in-flight-limited' });
          const watched = watchInFlight(api);
          return { run: await shareRun('in-flight-limited', local, env), ...watched };
        };
        const faithfulRun = async () => shareRun('faithful', smoke, (await serve('faithful', {})).env);
        const [faithful, never, afterFirst, limited] = await Promise.all([
          faithfulRun(),
          stall('creates-never-answer'),
          stall('creates-hang-after-first'),
          limit(),
        ]);
        return {
          faithful,
          stalled: { 'creates-never-answer': never, 'creates-hang-after-first': afterFirst },
          limited,
        };
      }),
    ),
});
test.describe.configure({ mode: 'default' });

test('the faithful run they are compared with passes', async ({ flow: { faithful } }) => {
  expect(faithful.code, faithful.tail()).toBe(0);
});

for (const fault of ['creates-never-answer', 'creates-hang-after-first'] as const)
  test.describe(fault, () => {
    test('one test fails create-201, naming the operation; the others that need a create are skipped naming it', async ({
      flow,
    }) => {
      const { run } = flow.stalled[fault];
      expect(run.code, run.tail()).toBe(1);
      const [failed, ...more] = run.testsWith('unexpected');
      expect(more.map((t) => t.title)).toEqual([]);
      expect(failed.errors.join('\n')).toMatch(
        /^ContractViolation: \[create-201\] .*\nReceived: POST \/v1\/rooms\/groups \(create a group\) got no answer within 2000 ms \(QR_REQUEST_TIMEOUT_MS\), while reads answer\. No create is sent after this one/,
      );
      const skipped = run.testsWith('skipped');
      expect(skipped.length).toBeGreaterThanOrEqual(7);
      for (const t of skipped)
        expect(firstAnnotation(t, 'qr-depends-on'), t.title).toMatchObject({ test: failed.title });
      expect(run.verdict.ok).toBe(false);
      expect(run.cellsOf('create-201')[0]).toMatch(/FAILED/);
    });

    test('no create reaches the API after the stop, and only those in flight with the first unanswered one wait out their timeout', async ({
      flow,
    }) => {
      const { creates, stoppedAt } = flow.stalled[fault];
      expect(stoppedAt).toBeDefined();
      expect(creates.filter((c) => c.at > stoppedAt!)).toEqual([]);
      // Given up at the stop, a create lets go within a poll; waited out, about a timeout after it came (the API
      // may see it come a little after the proxy's clock started). Creates sent together (a test's cases) wait together.
      const waitedOut = creates.filter((c) => (c.closed ?? Date.now()) - c.at >= TIMEOUT_MS / 2);
      expect(waitedOut.length).toBeGreaterThanOrEqual(1);
      for (const c of waitedOut) expect(c.at - waitedOut[0].at).toBeLessThan(TIMEOUT_MS / 2);
    });

    test('in the report, the unanswered create is a failed step of the test, and the test carries its exchanges', async ({
      flow,
    }) => {
      const { run } = flow.stalled[fault];
      type Step = { title: string; error?: unknown; steps?: Step[] };
      type Result = { steps?: Step[]; attachments?: { name: string }[] };
      type Spec = { title: string; tests: { status: string; results: Result[] }[] };
      type Suite = { specs?: Spec[]; suites?: Suite[] };
      const failed: Result[] = [];
      const walk = (suite: Suite) => {
        for (const spec of suite.specs ?? [])
          for (const t of spec.tests) if (t.status === 'unexpected') failed.push(t.results.at(-1)!);
        for (const child of suite.suites ?? []) walk(child);
      };
      walk(JSON.parse(run.read('results.json')));
      expect(failed).toHaveLength(1);
      expect(failed[0].attachments?.map((a) => a.name)).toContain('exchanges.txt');
      // In the test's body (or one of its cases), never inside a fixture's "Before Hooks": a run group is made there.
      const inBody = (steps: Step[] = []): Step[] =>
        steps.flatMap((step) => (step.title === 'Before Hooks' ? [] : [step, ...inBody(step.steps)]));
      const creates = inBody(failed[0].steps).filter((step) => step.title === 'POST /v1/rooms/groups');
      const request = creates.find((step) => step.error !== undefined);
      expect(request, 'a create step of the test itself failed').toBeDefined();
      expect(request?.steps?.map((step) => [step.title, step.error !== undefined])).toEqual([
        [`no answer within ${TIMEOUT_MS} ms`, true],
      ]);
    });

    test('the run ends at most one request timeout and 5 s after the faithful one', async ({ flow }) => {
      const { run } = flow.stalled[fault];
      // Playwright restarts the worker after any failed test: what that costs on this machine at this moment is
      // read off the run's own report (the gap after the failed test) and not counted as the suite's waiting.
      type Result = { startTime: string; duration: number };
      type Suite = { specs?: { tests: { status: string; results: Result[] }[] }[]; suites?: Suite[] };
      const results: (Result & { failed: boolean })[] = [];
      const walk = (suite: Suite) => {
        for (const spec of suite.specs ?? [])
          for (const t of spec.tests)
            for (const r of t.results) results.push({ ...r, failed: t.status === 'unexpected' });
        for (const child of suite.suites ?? []) walk(child);
      };
      walk(JSON.parse(run.read('results.json')));
      results.sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
      const i = results.findIndex((r) => r.failed);
      const failedEnd = Date.parse(results[i].startTime) + results[i].duration;
      const restart = i + 1 < results.length ? Math.max(0, Date.parse(results[i + 1].startTime) - failedEnd) : 0;
      test.info().annotations.push({
        type: 'wall time',
        description: `${run.ms} ms (faithful ${flow.faithful.ms} ms), of which the worker's restart ${restart} ms`,
      });
      expect(run.ms - restart).toBeLessThanOrEqual(flow.faithful.ms + TIMEOUT_MS + 5_000);
    });
  });

test.describe('an API allowing 4 requests in flight, 429 with Retry-After: 1 beyond', () => {
  test('the run passes with every clause verified', async ({ flow: { limited } }) => {
    const { run } = limited;
    expect(run.code, run.tail()).toBe(0);
    expect(run.verdict.ok).toBe(true);
    expect(run.summary).not.toMatch(/not verified|FAILED/);
  });

  test('at most 10 answers are 429, and once adapted at most 4 requests are in flight', async ({
    flow: { limited },
  }) => {
    expect(limited.limited.length).toBeLessThanOrEqual(10);
    const adapted = (limited.limited[0] ?? 0) + 200;
    const after = limited.arrivals.filter((a) => a.at > adapted);
    expect(after.length).toBeGreaterThan(20);
    expect(Math.max(...after.map((a) => a.inFlight))).toBeLessThanOrEqual(4);
  });
});
