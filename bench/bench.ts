/**
 * What a run costs, against one embedded reference API started here (in-process, so its counts are
 * read directly): Playwright's start-up alone (`--list`), a naive suite written from the design card
 * (bench/naive), and the suite's smoke and full runs of the `prelive` project pointed at that API.
 * Each is a child process with its own reporters, as a user runs it, made hermetic: no inherited
 * PRELIVE_/PRODUCTION_/LOCAL_/QR_ variables, no .env, a temporary QR_AUTH_DIR and output folders.
 * The cases are interleaved, one run at a time, N times each, each after the machine has quietened
 * down. Phases come from Playwright's own timings (bench/phases-reporter.ts, appended through
 * PW_TEST_REPORTER). Not part of `npm test`.
 *
 *   npm run bench [-- --runs 5] [--only naive,full] [--workers 2] [--keep]
 *     --floor                 adds Playwright's floor for a run of that size (bench/floor)
 *     --npm-test              also times each script of `npm test`'s chain, once per run (selfcheck
 *                             scripts write to selfcheck-results/, as they always do)
 *     --against before=DIR    interleaves the suite's runs of another checkout, e.g. the commit before
 *                             a change (`git worktree add DIR HEAD~1`, with node_modules linked)
 *     --max-noise 0.15        waits before each run until others use less than this share of the CPU,
 *     --patience 120          for at most this many seconds
 *     --latency 0,200,700     puts the embedded API (and the definition it serves) a network round trip
 *                             away, per value in ms: a loopback TCP relay (bench/relay.ts) holds each new
 *                             connection one round trip and delays every answer by one; the API cases run
 *                             at each latency, interleaved, and a table gives naive, full and smoke per latency
 *     --only ...,limited      adds the full run against an API that allows 4 requests in flight (429 with
 *                             Retry-After: 1 beyond), and its ratio to the unthrottled full run
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type CommandSpec, exitOnUsageError, notOneOf, readCommandLine, UsageError } from '../fixtures/contract/cli';
import { API_BASE_PATH, createReferenceApi, listen, type ReferenceApiStats } from '../reference-api/server';
import type { Phases } from './phases-reporter';
import { type Relay, startRelay } from './relay';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');
const SUITE_CONFIG = path.join(ROOT, 'playwright.config.ts');
const NAIVE_CONFIG = path.join(__dirname, 'naive', 'playwright.config.ts');
const FLOOR_CONFIG = path.join(__dirname, 'floor', 'playwright.config.ts');
const PHASES_REPORTER = path.join(__dirname, 'phases-reporter.ts');

const allCaseNames = ['start-up', 'naive', 'smoke', 'full', 'limited', 'floor'];
const spec: CommandSpec = {
  usage: 'npm run bench -- [--runs 5] [--only naive,full] [--latency 0,200,700] [options]',
  about:
    'Times start-up, the naive suite, and the smoke and full runs of the suite against an embedded reference API,\n' +
    'interleaved, one at a time, each after the machine has quietened down (docs/self-check.md). Not part of npm test.',
  options: {
    runs: { type: 'string', help: '<n> runs of each case', default: '5' },
    only: { type: 'string', help: `<cases> comma-separated, of: ${allCaseNames.join(', ')}` },
    latency: { type: 'string', help: '<ms,...> round-trip times to put the API at (e.g. 0,200,700)' },
    workers: { type: 'string', help: '<n> QR_WORKERS of the suite runs' },
    floor: { type: 'boolean', help: "adds Playwright's floor for a run of that size (bench/floor)" },
    'npm-test': { type: 'boolean', help: "also times each script of npm test's chain, once per run" },
    against: {
      type: 'string',
      multiple: true,
      help: "<label=dir> interleaves the suite's runs of another checkout (e.g. the commit before a change)",
    },
    keep: { type: 'boolean', help: "keeps the runs' folders" },
    'max-noise': { type: 'string', help: '<share> waits until others use less of the CPU than this', default: '0.15' },
    patience: { type: 'string', help: '<s> waits for quiet at most this long', default: '120' },
  },
};
let values: Record<string, string | boolean | string[] | undefined>;
const numbers = (option: string, list: string) =>
  list.split(',').map((v) => {
    if (!/^\d+$/.test(v.trim())) throw new UsageError(`--${option} "${v}" is not a number of milliseconds`);
    return Number(v);
  });
let LATENCIES: (number | undefined)[] = [undefined];
try {
  ({ values } = readCommandLine(spec, process.argv.slice(2)) as { values: typeof values });
  for (const name of (values.only as string | undefined)?.split(',') ?? [])
    if (!allCaseNames.includes(name.trim())) throw new UsageError(notOneOf('--only', name, allCaseNames));
  if (values.latency) LATENCIES = numbers('latency', values.latency as string);
} catch (e) {
  exitOnUsageError(e, 'bench');
  throw e;
}
const N = Math.max(1, Number(values.runs) || 5);
const WITH_LATENCY = values.latency !== undefined;
const MAX_NOISE = Number(values['max-noise']);
const PATIENCE_MS = Number(values.patience) * 1000;

type CaseName = string;
type Case = {
  name: CaseName;
  label: string;
  config: string;
  args: string[];
  api: boolean;
  suite: boolean;
  /** The round trip (ms) the API is put at, with --latency. */
  latency?: number;
  /** `limited`: the API that allows 4 requests in flight and answers 429 with Retry-After: 1 beyond them. */
  server?: 'limited';
};
const allCases: Case[] = [
  {
    name: 'start-up',
    label: 'start-up alone (`--project=prelive --list`)',
    config: SUITE_CONFIG,
    args: ['--project=prelive', '--list'],
    api: false,
    suite: true,
  },
  {
    name: 'naive',
    label: 'naive suite (bench/naive, 6 tests)',
    config: NAIVE_CONFIG,
    args: [],
    api: true,
    suite: false,
  },
  {
    name: 'smoke',
    label: 'smoke (`--project=prelive --grep @smoke`)',
    config: SUITE_CONFIG,
    args: ['--project=prelive', '--grep', '@smoke'],
    api: true,
    suite: true,
  },
  {
    name: 'full',
    label: 'full (`--project=prelive`)',
    config: SUITE_CONFIG,
    args: ['--project=prelive'],
    api: true,
    suite: true,
  },
  {
    name: 'limited',
    label: 'full (`--project=prelive`) against an API allowing 4 requests in flight (429, Retry-After: 1, beyond)',
    config: SUITE_CONFIG,
    args: ['--project=prelive'],
    api: true,
    suite: true,
    server: 'limited',
  },
  {
    name: 'floor',
    label: "Playwright's floor (bench/floor: 38 tests, 89 reads, 2 workers, no trace, the reporters)",
    config: FLOOR_CONFIG,
    args: [],
    api: true,
    suite: false,
  },
];
const only = (values.only as string | undefined)?.split(',').map((s) => s.trim());
const chosen = allCases
  .filter((c) => (only ? only.includes(c.name) : c.name !== 'floor' || values.floor))
  .flatMap((c) =>
    c.api && WITH_LATENCY
      ? LATENCIES.map((ms) => ({ ...c, name: `${c.name}@${ms}ms`, label: `${c.label} at ${ms} ms`, latency: ms }))
      : [c],
  );
/** Each case of this checkout, then the suite's cases of every `--against label=dir`. */
const cases = chosen.flatMap((c) => [
  c,
  ...((values.against as string[] | undefined) ?? []).flatMap((spec) => {
    const [label, dir] = spec.includes('=') ? spec.split('=') : [path.basename(spec), spec];
    const config = path.join(path.resolve(dir), 'playwright.config.ts');
    return c.suite ? [{ ...c, name: `${c.name}@${label}`, label: `${c.label} @ ${label}`, config }] : [];
  }),
]);

// ---- the machine -------------------------------------------------------------------------------

/** CPU time in clock ticks: the whole machine busy, and this process with the children it waited for. */
function cpuTicks(): { busy: number; own: number } {
  try {
    const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const g = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return { busy, own: g[11] + g[12] + g[13] + g[14] };
  } catch {
    return { busy: Number.NaN, own: Number.NaN };
  }
}
const TICKS_PER_SECOND = 100;

/** Share of the machine's CPU that others used while `ms` elapsed: the noise of a sample. */
function foreignShare(before: ReturnType<typeof cpuTicks>, after: ReturnType<typeof cpuTicks>, ms: number): number {
  const foreign = after.busy - before.busy - (after.own - before.own);
  return Math.max(0, foreign / TICKS_PER_SECOND / (ms / 1000) / os.cpus().length);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until others used less than `share` of the CPU for a second, at most `patienceMs`; the share seen last. */
async function quiet(share: number, patienceMs: number): Promise<number> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    const before = cpuTicks();
    await sleep(1000);
    const seen = foreignShare(before, cpuTicks(), 1000);
    if (seen < share || Number.isNaN(seen) || Date.now() > deadline) return seen;
  }
}

// ---- a child run ---------------------------------------------------------------------------------

/** The caller's environment without whatever points the suite somewhere or tunes it. */
function hermetic(): NodeJS.ProcessEnv {
  const dropped =
    /^(PRELIVE|PRODUCTION|LOCAL|QR|PLAYWRIGHT|PW)_|^(TEST_WORKER_INDEX|TEST_PARALLEL_INDEX|GITHUB_STEP_SUMMARY)$/;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped.test(k)));
}

/** `cpu`: CPU time (ms) of the child and everything it waited for, the bench's own API included. */
type Spawned = {
  code: number | null;
  ms: number;
  cpu: number;
  started: number;
  ended: number;
  output: string;
  noise: number;
};

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Spawned> {
  const before = cpuTicks();
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
    child.on('close', (code) => {
      const ended = Date.now();
      const after = cpuTicks();
      clearTimeout(timer);
      const cpu = ((after.own - before.own) * 1000) / TICKS_PER_SECOND;
      resolve({
        code,
        ms: ended - started,
        cpu,
        started,
        ended,
        output,
        noise: foreignShare(before, after, ended - started),
      });
    });
  });
}

type Sample = {
  ms: number;
  cpu: number;
  code: number | null;
  noise: number;
  requests?: number;
  byRoute?: Record<string, number>;
  created?: number;
  ledger?: number;
  passed?: number;
  phases?: Record<string, number>;
};

const readJson = (file: string) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined);

function difference(after: ReferenceApiStats, before: ReferenceApiStats) {
  const byRoute: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byRoute))
    if (v - (before.byRoute[k] ?? 0)) byRoute[k] = v - (before.byRoute[k] ?? 0);
  return { requests: after.requests - before.requests, byRoute, created: after.groupsCreated - before.groupsCreated };
}

/** The phases of a run from its timings (ms), each from the end of the one before. */
function phasesOf(p: Phases, spawned: Spawned): Record<string, number> | undefined {
  if (!p.configured || !p.tests.length) return undefined;
  const tests = [...p.tests].sort((a, b) => a.start - b.start);
  const first = tests[0];
  const lastEnd = Math.max(...tests.map((t) => t.end));
  const session = tests.flatMap((t) => t.fixtures).find((f) => f.title === 'Fixture "session"');
  const firstFixtures = first.fixtures.length ? Math.max(...first.fixtures.map((f) => f.end)) - first.start : 0;
  return {
    'start-up (spawn to configured)': p.configured - spawned.started,
    'global setup and test files loaded': p.began - p.configured,
    'first worker ready (to first test begin)': first.start - p.began,
    "first test's fixtures": firstFixtures,
    'token exchange (session fixture)': session ? session.end - session.start : 0,
    'tests (first begin to last end)': lastEnd - first.start,
    'teardown (workers, global teardown)': p.runEnd - lastEnd,
    'reports written (onEnd of the reporters)': p.reported - p.runEnd,
    'exit (onExit to process end)': spawned.ended - p.reported,
  };
}

// ---- the runs ------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const same = (xs: (number | undefined)[]) => {
  const v = [...new Set(xs.map((x) => x ?? '?'))];
  return v.length === 1 ? String(v[0]) : `${v.join('/')} (varies)`;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const spread = (ms: number[]) => `${seconds(Math.min(...ms))}–${seconds(Math.max(...ms))}`;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** The leaf scripts of `npm test`, in order: `npm run x && npm run y` chains expanded. */
function npmTestChain(scripts: Record<string, string>, name = 'test', seen = new Set<string>()): string[] {
  if (seen.has(name) || !scripts[name]) return [];
  seen.add(name);
  const parts = scripts[name].split('&&').map((s) => s.trim());
  const nested = parts.map((p) => /^npm (?:run(?:-script)? (\S+)|(test))$/.exec(p));
  if (nested.some((m) => !m)) return [name];
  return nested.flatMap((m) => npmTestChain(scripts, m![1] ?? m![2], seen));
}

/** Before a run: waits for the others to quieten down, saying so when it waited. */
async function settle() {
  const started = Date.now();
  const seen = await quiet(MAX_NOISE, PATIENCE_MS);
  const waited = Date.now() - started;
  if (waited > 1500)
    process.stderr.write(`(waited ${seconds(waited)} for others, ${(seen * 100).toFixed(0)}% at the end)\n`);
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-bench-'));
  const clientId = 'bench-client';
  const clients = { [clientId]: `bench-secret-${randomBytes(12).toString('hex')}` };
  const api = createReferenceApi({ clients });
  const { origin, close } = await listen(api);
  // The rate-limited API of the `limited` case: its own server, so that its in-flight count is its runs' alone.
  const limitedApi = createReferenceApi({ clients, variant: 'in-flight-limited' });
  const limited = await listen(limitedApi);
  // The drift section of a live run fetches the environment's definition: served here, from the snapshot.
  const definition = fs.readFileSync(path.join(ROOT, 'contract', 'openapi', 'prelive.json'));
  const docs = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(definition),
  );
  await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
  const docsOrigin = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  /** Per latency, where the APIs and the definition are reached: directly at none, else through relays. */
  const relays: Relay[] = [];
  const reached = new Map<number | undefined, { api: string; limited: string; docs: string }>();
  for (const ms of LATENCIES) {
    if (!ms) {
      reached.set(ms, { api: origin, limited: limited.origin, docs: docsOrigin });
      continue;
    }
    const [a, l, d] = [
      await startRelay(new URL(origin), ms),
      await startRelay(new URL(limited.origin), ms),
      await startRelay(new URL(docsOrigin), ms),
    ];
    relays.push(a, l, d);
    reached.set(ms, { api: a.origin, limited: l.origin, docs: d.origin });
  }

  const results = new Map<CaseName, Sample[]>(cases.map((c) => [c.name, []]));
  const npmTest: { ms: Record<string, number>; codes: Record<string, number | null>; noise: number[] }[] = [];
  const chain = values['npm-test']
    ? npmTestChain(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts)
    : [];

  const envFor = (dir: string, latency?: number, server?: 'limited'): NodeJS.ProcessEnv => {
    const reach = reached.get(latency) ?? { api: origin, limited: limited.origin, docs: docsOrigin };
    const at = { ...reach, api: server ? reach.limited : reach.api };
    const accessToken = (server ? limitedApi : api).issueAccessToken({
      sub: 'user-bench',
      clientId,
      scope: 'room.create room.read',
    });
    return {
      ...hermetic(),
      QR_DOTENV: 'off',
      QR_AUTH_DIR: fs.mkdtempSync(path.join(dir, 'auth-')),
      QR_OUTPUT_DIR: path.join(dir, 'test-results'),
      QR_REPORT_DIR: path.join(dir, 'playwright-report'),
      ...(values.workers ? { QR_WORKERS: values.workers as string } : {}),
      FORCE_COLOR: '0',
      PRELIVE_API_BASE_URL: `${at.api}${API_BASE_PATH}`,
      PRELIVE_OAUTH_BASE_URL: at.api,
      PRELIVE_CLIENT_ID: clientId,
      PRELIVE_ACCESS_TOKEN: accessToken,
      PRELIVE_OPENAPI_URL: `${at.docs}/prelive.json`,
    };
  };

  for (let i = 0; i < N; i++) {
    for (const c of cases) {
      const dir = path.join(work, `${c.name}-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      const env = {
        ...envFor(dir, c.latency, c.server),
        PW_TEST_REPORTER: PHASES_REPORTER,
        BENCH_PHASES_FILE: path.join(dir, 'phases.json'),
        PLAYWRIGHT_HTML_OUTPUT_DIR: path.join(dir, 'playwright-report'),
        // The suite writes its reports where QR_OUTPUT_DIR says; the others into the run's folder too.
        ...(c.suite
          ? {}
          : {
              PLAYWRIGHT_JSON_OUTPUT_FILE: path.join(dir, 'test-results', 'results.json'),
              PLAYWRIGHT_JUNIT_OUTPUT_FILE: path.join(dir, 'test-results', 'junit.xml'),
            }),
      };
      const output = c.suite ? [] : ['--output', path.join(dir, 'test-results')];
      const served = c.server ? limitedApi : api;
      const before = structuredClone(served.stats);
      await settle();
      const spawned = await run(process.execPath, [CLI, 'test', '-c', c.config, ...c.args, ...output], env);
      const counts = difference(served.stats, before);
      const phases = readJson(path.join(dir, 'phases.json')) as Phases | undefined;
      const ledger = readJson(path.join(dir, 'test-results', 'created-groups.json')) as
        | { status: string }[]
        | undefined;
      results.get(c.name)!.push({
        ms: spawned.ms,
        cpu: spawned.cpu,
        code: spawned.code,
        noise: spawned.noise,
        ...(c.api ? { requests: counts.requests, byRoute: counts.byRoute, created: counts.created } : {}),
        ledger: c.api && c.suite ? (ledger?.filter((e) => e.status === 'created').length ?? 0) : undefined,
        passed: c.api ? phases?.tests.filter((t) => t.expected).length : undefined,
        phases: phases && c.api ? phasesOf(phases, spawned) : undefined,
      });
      const noise = `others used ${(spawned.noise * 100).toFixed(0)}% of the CPU`;
      process.stderr.write(
        `${c.name} #${i + 1}: ${seconds(spawned.ms)} (CPU ${seconds(spawned.cpu)}), exit ${spawned.code}, ${noise}\n`,
      );
      if (spawned.code !== 0) process.stderr.write(`${spawned.output.slice(-3000)}\n`);
    }
    if (chain.length) {
      const sample: (typeof npmTest)[number] = { ms: {}, codes: {}, noise: [] };
      for (const script of chain) {
        const dir = path.join(work, `npm-${script.replace(/\W+/g, '_')}-${i}`);
        fs.mkdirSync(dir, { recursive: true });
        const hermeticEnv = Object.fromEntries(Object.entries(envFor(dir)).filter(([k]) => !k.startsWith('PRELIVE_')));
        await settle();
        const spawned = await run('npm', ['run', '--silent', script], hermeticEnv);
        sample.ms[script] = spawned.ms;
        sample.codes[script] = spawned.code;
        sample.noise.push(spawned.noise);
        process.stderr.write(`npm run ${script} #${i + 1}: ${seconds(spawned.ms)}, exit ${spawned.code}\n`);
        if (spawned.code !== 0) process.stderr.write(`${spawned.output.slice(-2000)}\n`);
      }
      npmTest.push(sample);
    }
  }
  for (const r of relays) await r.close();
  await close();
  await limited.close();
  docs.close();
  if (!values.keep) fs.rmSync(work, { recursive: true, force: true });

  console.log(report(results, npmTest, chain));
  const failed = [...results.values()].some((s) => s.some((x) => x.code !== 0));
  process.exit(failed ? 1 : 0);
}

function report(
  results: Map<CaseName, Sample[]>,
  npmTest: { ms: Record<string, number>; codes: Record<string, number | null>; noise: number[] }[],
  chain: string[],
) {
  const lines: string[] = [];
  const noiseAll = [...results.values()].flat().map((s) => s.noise);
  lines.push(
    `Benchmark: ${N} run(s) of each case, interleaved, one at a time, against one embedded reference API ` +
      `(QR_WORKERS=${values.workers ?? 'default'}, ${os.cpus().length} cores, Node ${process.version}). Others used ${
        noiseAll.length
          ? `${(median(noiseAll) * 100).toFixed(0)}% (median), at most ${(Math.max(...noiseAll) * 100).toFixed(0)}%`
          : '-'
      } of the machine's CPU during the runs.`,
    '',
  );
  const columns = ['run', 'wall, median', 'min–max', 'CPU, median', 'API requests', 'by route'];
  columns.push('groups created (API)', 'groups in ledger', 'tests passed', 'exit');
  lines.push(row(columns), row(columns.map(() => '---')));
  for (const c of cases) {
    const s = results.get(c.name)!;
    const ms = s.map((x) => x.ms);
    const failed = s.filter((x) => x.code !== 0).length;
    const routes = (() => {
      if (!c.api) return '-';
      const keys = [...new Set(s.flatMap((x) => Object.keys(x.byRoute ?? {})))].sort();
      return keys.map((k) => `${k} ${same(s.map((x) => x.byRoute?.[k] ?? 0))}`).join(', ') || '-';
    })();
    const cell = (xs: (number | undefined)[]) => (xs.every((x) => x === undefined) ? '-' : same(xs));
    lines.push(
      row([
        c.label,
        seconds(median(ms)),
        spread(ms),
        seconds(median(s.map((x) => x.cpu))),
        cell(s.map((x) => x.requests)),
        routes,
        cell(s.map((x) => x.created)),
        cell(s.map((x) => x.ledger)),
        cell(s.map((x) => x.passed)),
        failed ? `${failed} of ${N} FAILED` : 'ok',
      ]),
    );
  }
  const full = results.get('full');
  const naive = results.get('naive');
  if (full?.length && naive?.length) {
    const ratio = median(full.map((x) => x.ms)) / median(naive.map((x) => x.ms));
    // Run i of each case ran side by side: their ratio cancels the machine's slower and faster spells.
    const paired = median(full.map((x, i) => x.ms / naive[i].ms));
    lines.push(
      '',
      `Full run / naive suite: ${ratio.toFixed(2)}× (medians), ` +
        `${paired.toFixed(2)}× (median of side-by-side runs); target: at most 1.5×.`,
    );
    const floor = results.get('floor');
    if (floor?.length) {
      const floorRatio = median(floor.map((x, i) => x.ms / naive[i].ms));
      lines.push(`Playwright's floor / naive suite: ${floorRatio.toFixed(2)}× (median of side-by-side runs).`);
    }
  }

  if (WITH_LATENCY) {
    // Run i of each case ran side by side: their ratio cancels the machine's slower and faster spells.
    const at = (name: string, ms: number | undefined) => results.get(`${name}@${ms}ms`) ?? [];
    const wall = (xs: Sample[]) => (xs.length ? seconds(median(xs.map((x) => x.ms))) : '-');
    const paired = (a: Sample[], b: Sample[]) =>
      a.length && b.length ? `${median(a.map((x, i) => x.ms / b[i].ms)).toFixed(2)}×` : '-';
    lines.push(
      '',
      'Per round trip to the API (medians of interleaved runs; ratios: median of side-by-side runs; targets: full at ' +
        'most 1.5× the naive suite, smoke at most 1×):',
      '',
      row(['round trip', 'naive suite', 'full run', 'smoke run', 'full / naive', 'smoke / naive', 'limited / full']),
      row(['---', '---', '---', '---', '---', '---', '---']),
    );
    for (const ms of LATENCIES) {
      const [naive, full, smoke, limited] = ['naive', 'full', 'smoke', 'limited'].map((n) => at(n, ms));
      lines.push(
        row([
          `${ms} ms`,
          wall(naive),
          wall(full),
          wall(smoke),
          paired(full, naive),
          paired(smoke, naive),
          paired(limited, full),
        ]),
      );
    }
    lines.push('', '`limited / full`: the full run against the API allowing 4 requests in flight, to the full run.');
  }

  const withPhases = cases.filter((c) => results.get(c.name)!.some((x) => x.phases));
  if (withPhases.length) {
    const names = Object.keys(results.get(withPhases[0].name)!.find((x) => x.phases)!.phases!);
    lines.push(
      '',
      "Phases of a run (medians, ms; from Playwright's timings):",
      '',
      `| phase | ${withPhases.map((c) => c.name).join(' | ')} |`,
      `| --- | ${withPhases.map(() => '---').join(' | ')} |`,
    );
    for (const n of names)
      lines.push(
        `| ${n} | ${withPhases
          .map((c) => {
            const xs = results.get(c.name)!.flatMap((x) => (x.phases ? [x.phases[n]] : []));
            return xs.length ? String(Math.round(median(xs))) : '-';
          })
          .join(' | ')} |`,
      );
  }

  if (chain.length && npmTest.length) {
    lines.push(
      '',
      `Phases of \`npm test\` (each script of its chain, ${npmTest.length} run(s), medians):`,
      '',
      '| script | wall, median | min–max | exit |',
      '| --- | --- | --- | --- |',
    );
    for (const script of chain) {
      const ms = npmTest.map((s) => s.ms[script]);
      const bad = npmTest.filter((s) => s.codes[script] !== 0).length;
      lines.push(row([script, seconds(median(ms)), spread(ms), bad ? `${bad} of ${npmTest.length} failed` : 'ok']));
    }
    const totals = npmTest.map((s) => Object.values(s.ms).reduce((a, b) => a + b, 0));
    lines.push(row(['**total**', seconds(median(totals)), spread(totals), '']));
  }
  return lines.join('\n');
}

void main();
