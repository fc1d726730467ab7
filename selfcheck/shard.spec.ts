/**
 * Sharding against one shared live environment: `--shard=1/2` and `--shard=2/2`, run at once
 * against the same API (here one reference API, as the `prelive` project), both pass, and together
 * they run every test of the full run; their blob reports merge (`merge-reports`, as the CI
 * workflow does) into one report, one summary with a GO, and one ledger of every group created.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { API_BASE_PATH, createReferenceApi, listen } from '../reference-api/server';
import { RESULTS, ROOT, runSuite } from './harness';
import { LEDGER_FILE, LEDGER_LOG } from '../fixtures/ledger';

const fresh = { TEST_WORKER_INDEX: undefined, TEST_PARALLEL_INDEX: undefined, CI: undefined, GITHUB_STEP_SUMMARY: undefined };

/** Every test of a JSON report as `project › file › title`, read from the raw report. */
function testsOf(file: string): string[] {
  const out: string[] = [];
  const walk = (suite: any) => {
    for (const spec of suite.specs ?? []) for (const t of spec.tests ?? []) out.push(`${t.projectName} › ${spec.file} › ${spec.title}`);
    for (const s of suite.suites ?? []) walk(s);
  };
  for (const s of JSON.parse(fs.readFileSync(file, 'utf8')).suites ?? []) walk(s);
  return out;
}

test('two shards at once against one API both pass, run every test of the full run between them, and merge', async () => {
  const clientId = 'shard-client';
  const api = createReferenceApi({ clients: { [clientId]: 'shard-secret-0123456789' } });
  const { origin, close } = await listen(api);
  const refreshStore = path.join(ROOT, '.auth', 'prelive.refresh.json');
  const storeBefore = fs.existsSync(refreshStore) ? fs.readFileSync(refreshStore, 'utf8') : undefined;
  try {
    // Each shard its own access token (refresh tokens rotate: two shards cannot share one).
    const grant = { sub: 'user-shard-qa', clientId, scope: 'room.create room.read offline_access' };
    const prelive = (token?: string) => ({
      ...fresh,
      PRELIVE_API_BASE_URL: `${origin}${API_BASE_PATH}`,
      PRELIVE_OAUTH_BASE_URL: origin,
      PRELIVE_CLIENT_ID: clientId,
      PRELIVE_CLIENT_SECRET: undefined,
      PRELIVE_REFRESH_TOKEN: undefined,
      PRELIVE_USER_ID: undefined,
      PRELIVE_ACCESS_TOKEN: token ?? api.issueAccessToken(grant),
    });
    const shard = (n: 1 | 2) =>
      runSuite(`shard-${n}`, ['--project=prelive', `--shard=${n}/2`], {
        ...prelive(),
        QR_BLOB: '1',
        PLAYWRIGHT_BLOB_OUTPUT_DIR: path.join(RESULTS, `shard-${n}`, 'blob-report'),
        PLAYWRIGHT_BLOB_OUTPUT_NAME: `report-prelive-${n}.zip`,
      });
    const [one, two, list] = await Promise.all([shard(1), shard(2), runSuite('shard-list', ['--project=prelive', '--list'], prelive())]);

    for (const run of [one, two]) {
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.report!.stats.unexpected).toBe(0);
      expect(run.report!.stats.skipped).toBe(0);
      expect(run.report!.stats.expected).toBeGreaterThan(1);
      expect(fs.readFileSync(path.join(run.outputDir, 'contract-summary.md'), 'utf8')).toMatch(/^- prelive: \*\*GO\*\*/m);
    }
    const full = testsOf(path.join(list.outputDir, 'results.json'));
    const a = testsOf(path.join(one.outputDir, 'results.json'));
    const b = testsOf(path.join(two.outputDir, 'results.json'));
    expect(full.length).toBeGreaterThan(20);
    expect(new Set(full).size, 'titles are unique').toBe(full.length);
    // Together, every test of the full run; each contract test in one shard only (setup runs in both).
    expect([...new Set([...a, ...b])].sort()).toEqual([...full].sort());
    expect(a.filter((t) => b.includes(t))).toEqual(full.filter((t) => t.startsWith('prelive:setup')));

    // The shards' groups: distinct URLs, all of them on the API, none lost.
    const ledgers = [one, two].map((r) => JSON.parse(fs.readFileSync(path.join(r.outputDir, 'created-groups.json'), 'utf8')) as { url: string; status: string }[]);
    const urls = ledgers.flat().map((g) => g.url);
    expect(new Set(urls).size).toBe(urls.length);
    expect(ledgers.flat().every((g) => g.status === 'created')).toBe(true);
    expect(urls.length).toBe(api.stats.groupsCreated);
    // The groups' tests are one file, run in order: one shard makes both, so sharding adds no group.
    expect(urls.length, 'groups created by both shards together').toBe(2);

    // The CI report job: merge both blobs, with the config's reporters and the shards' ledgers.
    const merge = path.join(RESULTS, 'shard-merge');
    fs.rmSync(merge, { recursive: true, force: true });
    fs.mkdirSync(path.join(merge, 'blobs'), { recursive: true });
    for (const n of [1, 2] as const) {
      fs.copyFileSync(path.join(RESULTS, `shard-${n}`, 'blob-report', `report-prelive-${n}.zip`), path.join(merge, 'blobs', `report-prelive-${n}.zip`));
      fs.mkdirSync(path.join(merge, 'ledgers', `shard-${n}`), { recursive: true });
      const from = path.join(RESULTS, `shard-${n}`, 'test-results');
      const to = path.join(merge, 'ledgers', `shard-${n}`);
      // A shard without groups as a finished shard uploads it; the one with groups as if killed
      // mid-write: its journal only, the last line cut.
      const made = (JSON.parse(fs.readFileSync(path.join(from, LEDGER_FILE), 'utf8')) as unknown[]).length;
      if (!made) fs.copyFileSync(path.join(from, LEDGER_FILE), path.join(to, LEDGER_FILE));
      else fs.writeFileSync(path.join(to, LEDGER_LOG), `${fs.readFileSync(path.join(from, LEDGER_LOG), 'utf8')}{"event":"attempt","key":"x`);
    }
    const merged = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js'), 'merge-reports', '-c', path.join(ROOT, 'playwright.config.ts'), path.join(merge, 'blobs')], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...fresh,
          QR_OUTPUT_DIR: path.join(merge, 'test-results'),
          QR_REPORT_DIR: path.join(merge, 'playwright-report'),
          PLAYWRIGHT_JSON_OUTPUT_FILE: path.join(merge, 'report.json'),
          QR_MERGE_LEDGERS: path.join(merge, 'ledgers'),
          FORCE_COLOR: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(merged.code, merged.output).toBe(0);
    expect([...new Set(testsOf(path.join(merge, 'report.json')))].sort()).toEqual([...full].sort());
    expect(fs.existsSync(path.join(merge, 'playwright-report', 'index.html'))).toBe(true);
    expect(fs.readFileSync(path.join(merge, 'test-results', 'junit.xml'), 'utf8')).toContain('<testsuites');
    const summary = fs.readFileSync(path.join(merge, 'test-results', 'contract-summary.md'), 'utf8');
    expect(summary).toMatch(/^- prelive: \*\*GO\*\*/m);
    expect(summary).not.toContain('| FAILED');
    // Both shards' run ids, and every group either created.
    expect(summary.match(/run `\w+`, seed `QR_SEED=\d+`/g)).toHaveLength(2);
    expect(summary).toContain(`${urls.length} group(s)`);
    expect(JSON.parse(fs.readFileSync(path.join(merge, 'test-results', 'created-groups.json'), 'utf8'))).toHaveLength(urls.length);
    expect(JSON.parse(fs.readFileSync(path.join(merge, 'test-results', 'contract-verdict.json'), 'utf8')).ok).toBe(true);
  } finally {
    await close();
  }
  // Access tokens only: the rotated refresh token a developer keeps for prelive is left alone.
  expect(fs.existsSync(refreshStore) ? fs.readFileSync(refreshStore, 'utf8') : undefined).toBe(storeBefore);
});
