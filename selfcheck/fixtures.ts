/**
 * The self-tests' fixtures, one set for every self-test file. `runSuite` runs the contract suite the
 * way a user does (a child `playwright test`) and keeps everything it wrote in the test's output
 * folder, as Playwright's own tests do with `runInlineTest`; `once` with `shareRun` makes a child
 * run once per worker for the tests that read it; `referenceApi` serves an in-process reference
 * API and `credentialProxy` starts a worker's credential proxy, both for the length of a test.
 */

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test as base } from '@playwright/test';
import { type EnvironmentName, readSettings, type SuiteEnvironment } from '../fixtures/config/settings';
import type { AnnotationType } from '../fixtures/contract/annotations';
import { annotationsOf } from '../fixtures/contract/annotations';
import type { ClauseId } from '../fixtures/contract/clauses';
import { LEDGER_FILE, LedgerEntry } from '../fixtures/contract/ledger-format';
import { Ledger } from '../fixtures/harness/ledger';
import { startForwarder } from '../fixtures/harness/proxy/forwarder';
import type { EnvironmentVerdict } from '../fixtures/reporting/verdict';
import {
  API_BASE_PATH,
  createReferenceApi,
  type InstanceName,
  instanceBasePath,
  listen,
  type ReferenceApiOptions,
} from '../reference-api/server';

export const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');

/** A fresh owner-only folder under the system's temporary folder. */
export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `qr-${label}-`));
}

type Annotation = { type: string; description?: string };
export type JsonTest = {
  title: string;
  file: string;
  projectName: string;
  tags: string[];
  status: 'expected' | 'unexpected' | 'skipped' | 'flaky';
  /** Of its last result, in ms. */
  duration: number;
  errors: string[];
  annotations: Annotation[];
  /** Of its last result; bodies as the JSON report holds them (base64). */
  attachments: { name: string; contentType: string; body?: string }[];
};

/** What a child run did: exit code, console, and the files it wrote, read on demand. */
export class SuiteRun {
  private parsed?: JsonTest[];

  constructor(
    /** The run's own folder: output, HTML report, JSON report. */
    readonly dir: string,
    readonly authDir: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly ms: number,
  ) {}

  get outputDir() {
    return path.join(this.dir, 'test-results');
  }

  get reportDir() {
    return path.join(this.dir, 'playwright-report');
  }

  get output() {
    return `${this.stdout}\n${this.stderr}`;
  }

  /** The JSON report's tests, each with its last result; none when the run stopped before testing. */
  get tests(): JsonTest[] {
    this.parsed ??= readJsonReport(path.join(this.outputDir, 'results.json'));
    return this.parsed;
  }

  testsWith(status: JsonTest['status']) {
    return this.tests.filter((t) => t.status === status);
  }

  /** A file the run wrote to its output folder. */
  read(name: string): string {
    return fs.readFileSync(path.join(this.outputDir, name), 'utf8');
  }

  get summary() {
    return this.read('contract-summary.md');
  }

  /** The summary's cells of a clause, one per environment that ran. */
  cellsOf(clause: ClauseId): string[] {
    const row = this.summary.split('\n').find((l) => l.startsWith(`| \`${clause}\` |`)) ?? '';
    return row
      .split(' | ')
      .slice(2)
      .map((c) => c.replace(/\s*\|$/, '').trim());
  }

  get verdict(): { ok: boolean; status: string; environments: EnvironmentVerdict[] } {
    return JSON.parse(this.read('contract-verdict.json'));
  }

  get ledger(): LedgerEntry[] {
    return LedgerEntry.array().parse(JSON.parse(this.read(LEDGER_FILE)));
  }

  /** How many times `needle` occurs in the console. */
  count(needle: string): number {
    return this.output.split(needle).length - 1;
  }

  /** The typed annotations of a type, over every test of the run. */
  annotations<T extends AnnotationType>(type: T) {
    return this.tests.flatMap((t) => annotationsOf(t, type));
  }

  /** The last lines of the console, for an assertion's message. */
  tail(chars = 1500) {
    return this.output.slice(-chars);
  }
}

function readJsonReport(file: string): JsonTest[] {
  if (!fs.existsSync(file)) return [];
  type Suite = { suites?: Suite[]; specs?: { title: string; file: string; tags?: string[]; tests: RawTest[] }[] };
  type RawTest = { projectName: string; status: JsonTest['status']; annotations: Annotation[]; results: RawResult[] };
  type RawResult = {
    duration: number;
    errors?: { message?: string; value?: string }[];
    annotations?: Annotation[];
    attachments?: JsonTest['attachments'];
  };
  const tests: JsonTest[] = [];
  const walk = (suite: Suite) => {
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests) {
        const last = t.results.at(-1);
        tests.push({
          title: spec.title,
          file: spec.file,
          projectName: t.projectName,
          tags: (spec.tags ?? []).map((x) => (x.startsWith('@') ? x : `@${x}`)),
          status: t.status,
          duration: last?.duration ?? 0,
          errors: (last?.errors ?? []).map((e) => String(e.message ?? e.value ?? '')),
          attachments: last?.attachments ?? [],
          // Playwright may report a runtime annotation on the test and on its result: each once.
          annotations: [...t.annotations, ...(last?.annotations ?? [])].filter(
            (a, i, all) => all.findIndex((b) => b.type === a.type && b.description === a.description) === i,
          ),
        });
      }
    for (const s of suite.suites ?? []) walk(s);
  };
  walk(JSON.parse(fs.readFileSync(file, 'utf8')));
  return tests;
}

type RunOptions = {
  /** The run's folder name, when a test makes several runs. */
  name?: string;
  /** Where a `.env` would be read from, were it not off. Default: the project root. */
  cwd?: string;
  /** `merge-reports` instead of `test`. */
  command?: 'test' | 'merge-reports';
};

/** What could point a child at an environment, tune it, or redirect its reports: only the caller's `env` sets these. */
const INHERITED_NEVER =
  /^(PRELIVE|PRODUCTION|LOCAL|QR|PLAYWRIGHT|TEST_WORKER|TEST_PARALLEL)_|^(CI|GITHUB_STEP_SUMMARY)$/;

/**
 * The published definition a live environment's summary compares with is never fetched from here:
 * the network beyond this machine is not the self-tests' to use. Refused at once, it is one line.
 */
const NO_DEFINITION = 'http://127.0.0.1:9/openapi.json';
const offlineDefinitions = (env: NodeJS.ProcessEnv) =>
  Object.fromEntries(
    ['PRELIVE', 'PRODUCTION']
      .filter(
        (p) =>
          Object.entries(env).some(([k, v]) => k.startsWith(`${p}_`) && v !== undefined) &&
          !(`${p}_OPENAPI_URL` in env),
      )
      .map((p) => [`${p}_OPENAPI_URL`, NO_DEFINITION]),
  );

/**
 * Runs `playwright test <args>` (or `merge-reports`) in `dir`: hermetic, so that a self-test never
 * reaches a live environment or spends a real refresh token. Nothing of the caller's suite
 * variables is inherited, `.env` is off, refresh tokens and sessions go to a folder of the run's
 * own, one worker unless `env` says otherwise. An `undefined` in `env` removes a variable.
 */
function spawnSuite(dir: string, args: string[], env: NodeJS.ProcessEnv = {}, o: RunOptions = {}) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const authDir = env.QR_AUTH_DIR ?? `${dir}-auth`;
  fs.mkdirSync(authDir, { recursive: true, mode: 0o700 });
  const started = Date.now();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !INHERITED_NEVER.test(k)));
  const child = spawn(
    process.execPath,
    [CLI, o.command ?? 'test', '-c', path.join(ROOT, 'playwright.config.ts'), ...args],
    {
      cwd: o.cwd ?? ROOT,
      env: {
        ...inherited,
        QR_DOTENV: 'off',
        QR_AUTH_DIR: authDir,
        QR_WORKERS: '1',
        QR_OUTPUT_DIR: path.join(dir, 'test-results'),
        QR_REPORT_DIR: path.join(dir, 'playwright-report'),
        // Wins over the config's `outputFile` of the json reporter, so `--reporter=json` writes there too.
        PLAYWRIGHT_JSON_OUTPUT_FILE: path.join(dir, 'test-results', 'results.json'),
        FORCE_COLOR: '0',
        ...offlineDefinitions(env),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // A child that hangs ends its self-test in a failure, not the whole self-check.
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise<SuiteRun>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(new SuiteRun(dir, authDir, code, stdout, stderr, Date.now() - started));
    }),
  );
}

type Credentials = { clientId: string; clientSecret?: string; accessToken?: string; refreshToken?: string };

/**
 * The variables that point an environment (`PRELIVE`, `PRODUCTION`, `LOCAL`) at a reference API
 * served at `origin`: its root instance, or one of its catalog (`instance`).
 */
export function pointAt(prefix: string, origin: string, c: Credentials, instance?: InstanceName): NodeJS.ProcessEnv {
  return {
    [`${prefix}_API_BASE_URL`]: `${origin}${instance ? instanceBasePath(instance) : API_BASE_PATH}`,
    [`${prefix}_OAUTH_BASE_URL`]: origin,
    [`${prefix}_CLIENT_ID`]: c.clientId,
    [`${prefix}_CLIENT_SECRET`]: c.clientSecret,
    [`${prefix}_ACCESS_TOKEN`]: c.accessToken,
    [`${prefix}_REFRESH_TOKEN`]: c.refreshToken,
  };
}

/**
 * An environment as the fixtures get it, from `source` (default: a client and a token) with the
 * suite's own variables it holds (PRODUCTION_ALLOW_WRITES, ...); QR_AUTH_DIR a fresh folder unless given.
 */
export function environmentFor(name: EnvironmentName, source?: NodeJS.ProcessEnv): SuiteEnvironment {
  const prefix = name.toUpperCase();
  const given = source ?? { [`${prefix}_CLIENT_ID`]: 'qa-client', [`${prefix}_ACCESS_TOKEN`]: 'qa-token' };
  const { settings, problems } = readSettings({ QR_AUTH_DIR: tempDir('auth'), ...given });
  const status = settings?.environments[name];
  if (status?.status !== 'ok') throw new Error(`${name} is not usable: ${problems.join('; ') || status?.status}`);
  return status.env;
}

export type ServedApi = ReturnType<typeof createReferenceApi> & { origin: string };

export type Forwarder = Awaited<ReturnType<typeof startForwarder>> & { ledgerDir: string };
/** A worker's credential proxy for `name` at `apiBaseUrl`; `extra`: more variables (PRODUCTION_ALLOW_WRITES, ...). */
export type CredentialProxy = (
  name: EnvironmentName,
  apiBaseUrl: string,
  accessToken?: string,
  extra?: NodeJS.ProcessEnv,
) => Promise<Forwarder>;

type Fixtures = {
  /** Runs the suite in a folder of this test's output (`options.name` tells several runs apart). */
  runSuite: (args: string[], env?: NodeJS.ProcessEnv, options?: RunOptions) => Promise<SuiteRun>;
  /** A reference API listening on loopback until the test ends. */
  referenceApi: (options?: ReferenceApiOptions) => Promise<ServedApi>;
  /** A worker's credential proxy (fixtures/harness/proxy/forwarder.ts) for `name` at `apiBaseUrl`, until the test ends. */
  credentialProxy: CredentialProxy;
};
type WorkerFixtures = {
  /**
   * Makes a value once per worker and key: a child run that several tests read. Those tests stay
   * in one worker (a `describe` in mode `default`). Worker fixtures are declared here only, so that
   * every self-test file shares one worker pool: a worker process is costly to start (docs/self-check.md).
   */
  once: <T>(key: string, make: () => Promise<T>) => Promise<T>;
  /** `runSuite` for `once`: the run goes to the worker's folder, under `name`. */
  shareRun: (name: string, args: string[], env?: NodeJS.ProcessEnv, options?: RunOptions) => Promise<SuiteRun>;
  /** `referenceApi` for `once`: closed when the worker ends. */
  shareReferenceApi: (options?: ReferenceApiOptions) => Promise<ServedApi>;
};

/** Serves reference APIs until `close`. */
function servers() {
  const open: (() => Promise<void>)[] = [];
  return {
    serve: async (options: ReferenceApiOptions = {}): Promise<ServedApi> => {
      const api = createReferenceApi(options);
      const { origin, close } = await listen(api);
      open.push(close);
      return Object.assign(api, { origin });
    },
    close: () => Promise.all(open.map((close) => close())),
  };
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  runSuite: async ({}, use, testInfo) => {
    let runs = 0;
    await use((args, env, o = {}) => spawnSuite(testInfo.outputPath(o.name ?? `run-${++runs}`), args, env, o));
  },
  referenceApi: async ({}, use) => {
    const s = servers();
    await use(s.serve);
    await s.close();
  },
  credentialProxy: async ({}, use) => {
    const started: Forwarder[] = [];
    await use(async (name, apiBaseUrl, accessToken = 'qa-access-token', extra = {}) => {
      const prefix = name.toUpperCase();
      const env = environmentFor(name, {
        [`${prefix}_API_BASE_URL`]: apiBaseUrl,
        [`${prefix}_OAUTH_BASE_URL`]: apiBaseUrl,
        [`${prefix}_CLIENT_ID`]: 'qa-client',
        [`${prefix}_ACCESS_TOKEN`]: accessToken,
        ...extra,
      });
      const session = { accessToken, userId: 'user-qa', via: 'access-token' as const };
      const ledgerDir = tempDir('ledger');
      const forwarder = Object.assign(
        await startForwarder({ env, session: () => session, ledger: new Ledger(ledgerDir, name) }),
        { ledgerDir },
      );
      started.push(forwarder);
      return forwarder;
    });
    await Promise.all(started.map((f) => f.close()));
  },
  once: [
    async ({}, use) => {
      const made = new Map<string, Promise<unknown>>();
      await use(<T>(key: string, make: () => Promise<T>) => {
        if (!made.has(key)) made.set(key, make());
        return made.get(key) as Promise<T>;
      });
    },
    { scope: 'worker' },
  ],
  shareRun: [
    async ({}, use, workerInfo) => {
      const folder = path.join(workerInfo.project.outputDir, `shared-w${workerInfo.workerIndex}`);
      await use((name, args, env, o) => spawnSuite(path.join(folder, name), args, env, o));
    },
    { scope: 'worker' },
  ],
  shareReferenceApi: [
    async ({}, use) => {
      const s = servers();
      await use(s.serve);
      await s.close();
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';

/** A loopback port free at the time of asking (for a process that must be told its port beforehand). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
