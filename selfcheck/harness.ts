/**
 * Runs the contract suite as a user would (a child `playwright test`), in an output folder of its
 * own, and reads what it reported. Used by the fault matrix and by the self-tests.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './scan';

export const ROOT = path.resolve(__dirname, '..');
export const RESULTS = path.join(ROOT, 'selfcheck-results');
const CLI = path.join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');

export type SuiteRun = {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  outputDir: string;
  reportDir: string;
  /** The JSON report, when the run got that far. */
  report?: JsonReport;
};

export type JsonTest = { title: string; tags: string[]; projectName: string; status: string; errors: string[]; annotations: { type: string; description?: string }[] };
export type JsonReport = { stats: { expected: number; unexpected: number; skipped: number; flaky: number }; tests: JsonTest[] };

/**
 * Runs `playwright test <args>` with extra environment; `name` is the folder under selfcheck-results/.
 * `cwd` (default: the project root) is where a `.env` would be read from, were it not off.
 */
export function runSuite(name: string, args: string[], env: NodeJS.ProcessEnv = {}, o: { cwd?: string; timeoutMs?: number } = {}): Promise<SuiteRun> {
  const base = path.join(RESULTS, name);
  fs.rmSync(base, { recursive: true, force: true });
  const outputDir = path.join(base, 'test-results');
  const reportDir = path.join(base, 'playwright-report');
  // Where the config's own json reporter writes, so that `--reporter=json` runs put it there too.
  const jsonFile = path.join(outputDir, 'results.json');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'test', '-c', path.join(ROOT, 'playwright.config.ts'), ...args], {
      cwd: o.cwd ?? ROOT,
      env: {
        ...hermetic(process.env),
        // Never the developer's .env, nor the real .auth/: a self-test must not reach a live
        // environment or spend (rotate) a real refresh token. Callers that need them pass them.
        QR_DOTENV: 'off',
        QR_AUTH_DIR: tempDir('auth'),
        // A run of its own (hermetic: new run id and seed). When the caller is itself a
        // Playwright worker (a self-test), its worker variables must not reach the child: the
        // child's config would take itself for a worker and skip its start-up validation.
        TEST_WORKER_INDEX: undefined,
        TEST_PARALLEL_INDEX: undefined,
        // A child's summary must not land in the CI job's own step summary.
        GITHUB_STEP_SUMMARY: undefined,
        // _FILE wins over the config's `outputFile` (…_NAME does not).
        PLAYWRIGHT_JSON_OUTPUT_FILE: jsonFile,
        QR_OUTPUT_DIR: outputDir,
        QR_REPORT_DIR: reportDir,
        FORCE_COLOR: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, outputDir, reportDir, report: readJson(jsonFile) });
    });
  });
}

/**
 * The caller's environment without the suite's own variables: whatever points the suite at an
 * environment (PRELIVE_*, PRODUCTION_*, LOCAL_*) or tunes it (QR_*) comes from the caller's
 * explicit `env` only, so a child run is the same on a developer's machine and in CI.
 */
function hermetic(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^(PRELIVE|PRODUCTION|LOCAL|QR)_/.test(k)));
}

/** Flattens Playwright's JSON report into one row per test (last result). */
function readJson(file: string): JsonReport | undefined {
  if (!fs.existsSync(file)) return undefined;
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const tests: JsonTest[] = [];
  const walk = (suite: any) => {
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests ?? []) {
        const last = t.results?.at(-1);
        tests.push({
          title: spec.title,
          tags: spec.tags?.map((x: string) => (x.startsWith('@') ? x : `@${x}`)) ?? [],
          projectName: t.projectName,
          status: t.status, // expected | unexpected | skipped | flaky
          errors: (last?.errors ?? []).map((e: any) => String(e.message ?? e.value ?? '')),
          annotations: t.annotations ?? [],
        });
      }
    for (const s of suite.suites ?? []) walk(s);
  };
  for (const s of raw.suites ?? []) walk(s);
  return { stats: raw.stats, tests };
}

/** Runs tasks with at most `limit` at once. */
export async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
