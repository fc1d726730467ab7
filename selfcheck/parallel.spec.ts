/**
 * Runs that overlap share nothing but the API. Three smoke runs start at once against one
 * reference API (as `local`): one with `--repeat-each=2`, and the two shards of a sharded run
 * (`--shard=1/2`, `--shard=2/2`), which `merge-reports` then joins with their ledgers, as the CI
 * workflow does. No URL collides, between the runs or between the repeats of a test; each run
 * makes its one group once; the shards run every test once between them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LEDGER_FILE, LEDGER_LOG } from '../fixtures/contract/ledger-format';
import { test as base, expect, type JsonTest, pointAt, type ServedApi, type SuiteRun, tempDir } from './fixtures';

type Overlapping = { repeated: SuiteRun; shards: SuiteRun[]; merged: SuiteRun; api: ServedApi };
const test = base.extend<{ overlapping: Overlapping }>({
  overlapping: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(
      await once('overlapping', async () => {
        const api = await shareReferenceApi();
        // One access token per run: a refresh token rotates, two runs cannot share one.
        const local = () =>
          pointAt('LOCAL', api.origin, {
            clientId: 'c',
            accessToken: api.issueAccessToken({ sub: 'user-shared', clientId: 'c', scope: 'room' }),
          });
        const smoke = ['--grep', '@smoke'];
        // A blob folder per shard: the blob reporter empties its folder first.
        const blobs = tempDir('blobs');
        const shard = (n: number) =>
          shareRun(`shard-${n}`, [...smoke, `--shard=${n}/2`], {
            ...local(),
            QR_BLOB: 'true',
            PLAYWRIGHT_BLOB_OUTPUT_DIR: path.join(blobs, `shard-${n}`),
            PLAYWRIGHT_BLOB_OUTPUT_NAME: `report-local-${n}.zip`,
          });
        const [repeated, ...shards] = await Promise.all([
          shareRun('repeated', [...smoke, '--repeat-each=2'], local()),
          shard(1),
          shard(2),
        ]);
        const gathered = tempDir('gathered');
        for (const n of [1, 2])
          fs.copyFileSync(
            path.join(blobs, `shard-${n}`, `report-local-${n}.zip`),
            path.join(gathered, `report-local-${n}.zip`),
          );
        // The report job gets each shard's ledger: the first as a finished shard uploads it, the
        // second as a shard killed while writing leaves it (its journal, the last line cut).
        const ledgers = tempDir('ledgers');
        fs.mkdirSync(path.join(ledgers, 'shard-1'));
        fs.mkdirSync(path.join(ledgers, 'shard-2'));
        fs.copyFileSync(path.join(shards[0].outputDir, LEDGER_FILE), path.join(ledgers, 'shard-1', LEDGER_FILE));
        fs.writeFileSync(
          path.join(ledgers, 'shard-2', LEDGER_LOG),
          `${shards[1].read(LEDGER_LOG)}{"event":"attempt","key":"x`,
        );
        const merged = await shareRun(
          'merged',
          [gathered],
          { QR_MERGE_LEDGERS: ledgers },
          { command: 'merge-reports' },
        );
        return { repeated, shards, merged, api };
      }),
    ),
});
test.describe.configure({ mode: 'default' });

/** The url of every create a run sent, with its test (from the ledger's journal: refused ones too). */
const attempts = (run: SuiteRun): { url: string; test: string }[] =>
  run
    .read(LEDGER_LOG)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((e) => e.event === 'attempt' && typeof e.url === 'string' && !e.test.includes('already taken'));
/** A test's own creates: not the run's groups, made once for the run by whichever test needs one first (their urls carry the group's letter, not a worker's). */
const ownAttempts = (run: SuiteRun) => attempts(run).filter((a) => /-w[0-9a-z]+-[0-9a-z]+-/.test(a.url));
const runIdOf = (run: SuiteRun) => run.stderr.match(/Contract run (\w+),/)?.[1] ?? 'no run id';
/** Each test once, by project, file and title. */
const names = (tests: JsonTest[]) => {
  const each = new Set(tests.map((t) => `${t.projectName} › ${t.file} › ${t.title}`));
  return [...each].sort();
};

test('three runs at once against one API all pass, and none sends a URL another sends', async ({ overlapping }) => {
  const runs = [overlapping.repeated, ...overlapping.shards];
  for (const run of runs) expect(run.code, run.tail()).toBe(0);
  const urls = runs.map((run) => new Set(attempts(run).map((a) => a.url)));
  expect(urls[0].size).toBeGreaterThanOrEqual(3);
  const shared = urls.flatMap((mine, i) => [...mine].filter((u) => urls.some((theirs, j) => j !== i && theirs.has(u))));
  expect(shared).toEqual([]);
});

test('--repeat-each=2 runs every test twice, each repeat with its own URLs', async ({ overlapping: { repeated } }) => {
  expect(repeated.testsWith('expected')).toHaveLength(2 * names(repeated.tests).length);
  const urlsByTest = new Map<string, string[]>();
  for (const a of ownAttempts(repeated)) urlsByTest.set(a.test, [...(urlsByTest.get(a.test) ?? []), a.url]);
  const sentTwice = [...urlsByTest.values()].filter((urls) => urls.length === 2);
  expect(sentTwice.length).toBeGreaterThanOrEqual(2);
  expect(sentTwice.filter(([a, b]) => a === b)).toEqual([]);
});

test('a smoke run creates 1 group, by the API and by the ledger, however many times its tests repeat', async ({
  overlapping,
}) => {
  const { repeated, api } = overlapping;
  expect(repeated.ledger.map((e) => e.status)).toEqual(['created']);
  expect(api.groups().filter((g) => g.url.includes(runIdOf(repeated)))).toHaveLength(1);
});

test('two shards run every test of the run between them once, each its own groups', async ({ overlapping }) => {
  const { repeated, shards, api } = overlapping;
  const sharded = shards.flatMap((s) => names(s.tests));
  expect(sharded.sort()).toEqual(names(repeated.tests));
  for (const s of shards) expect(s.summary).toMatch(/^- local: \*\*GO\*\*/m);
  const made = shards.flatMap((s) => s.ledger.map((g) => g.url));
  expect(made.sort()).toEqual(
    api
      .groups()
      .map((g) => g.url)
      .filter((u) => shards.some((s) => u.includes(runIdOf(s))))
      .sort(),
  );
});

test('merged, the shards make one report, one summary with a GO, and one ledger of every group', async ({
  overlapping,
}) => {
  const { repeated, shards, merged } = overlapping;
  expect(merged.code, merged.tail()).toBe(0);
  expect(names(merged.tests)).toEqual(names(repeated.tests));
  expect(fs.existsSync(path.join(merged.reportDir, 'index.html'))).toBe(true);
  expect(merged.read('junit.xml')).toContain('<testsuites');
  expect(merged.summary).toMatch(/^- local: \*\*GO\*\*/m);
  expect(merged.summary.match(/run `\w+`, seed `QR_SEED=\d+`/g)).toHaveLength(2);
  expect(merged.ledger.map((g) => g.url).sort()).toEqual(shards.flatMap((s) => s.ledger.map((g) => g.url)).sort());
  expect(merged.verdict.ok).toBe(true);
});
