/**
 * Sharding against one shared environment, as the CI workflow does it: `--shard=1/2` and
 * `--shard=2/2` at once against one API (a reference API as `prelive`), then `merge-reports` of
 * their blobs with the shards' ledgers, into one report, one summary and one ledger. The smoke
 * subset keeps it short; every test of it runs in exactly one shard.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LEDGER_FILE, LEDGER_LOG } from '../fixtures/ledger';
import { test as base, expect, type JsonTest, pointAt, type ServedApi, type SuiteRun, tempDir } from './fixtures';

type Sharded = { shards: SuiteRun[]; list: SuiteRun; merged: SuiteRun; api: ServedApi };
const test = base.extend<{}, { sharded: Sharded }>({
  sharded: [
    async ({ shareRun, shareReferenceApi }, use) => {
      const api = await shareReferenceApi();
      // A blob folder per shard (the blob reporter empties its folder first), gathered for the merge.
      const blobs = tempDir('blobs');
      // One access token per shard: a refresh token rotates, two machines cannot share one.
      const prelive = () => pointAt('PRELIVE', api.origin, { clientId: 'c', accessToken: api.issueAccessToken({ sub: 'user-shard', clientId: 'c', scope: 'room' }) });
      const smoke = ['--project=prelive', '--grep', '@smoke'];
      const shard = (n: number) =>
        shareRun(`shard-${n}`, [...smoke, `--shard=${n}/2`], {
          ...prelive(),
          QR_BLOB: 'true',
          PLAYWRIGHT_BLOB_OUTPUT_DIR: path.join(blobs, `shard-${n}`),
          PLAYWRIGHT_BLOB_OUTPUT_NAME: `report-prelive-${n}.zip`,
        });
      const [one, two, list] = await Promise.all([shard(1), shard(2), shareRun('list', [...smoke, '--list'], prelive())]);
      // The report job gets each shard's ledger: the first as a finished shard uploads it, the
      // second as a shard killed while writing leaves it (its journal, the last line cut).
      const gathered = tempDir('gathered');
      for (const n of [1, 2]) fs.copyFileSync(path.join(blobs, `shard-${n}`, `report-prelive-${n}.zip`), path.join(gathered, `report-prelive-${n}.zip`));
      const ledgers = tempDir('ledgers');
      fs.mkdirSync(path.join(ledgers, 'shard-1'));
      fs.mkdirSync(path.join(ledgers, 'shard-2'));
      fs.copyFileSync(path.join(one.outputDir, LEDGER_FILE), path.join(ledgers, 'shard-1', LEDGER_FILE));
      fs.writeFileSync(path.join(ledgers, 'shard-2', LEDGER_LOG), `${two.read(LEDGER_LOG)}{"event":"attempt","key":"x`);
      const merged = await shareRun('merged', [gathered], { QR_MERGE_LEDGERS: ledgers }, { command: 'merge-reports' });
      await use({ shards: [one, two], list, merged, api });
    },
    { scope: 'worker' },
  ],
});
test.describe.configure({ mode: 'default' });

const names = (tests: JsonTest[]) => tests.map((t) => `${t.projectName} › ${t.file} › ${t.title}`).sort();

test('two shards at once against one API both pass, and run every test between them once', async ({ sharded: { shards, list } }) => {
  for (const run of shards) {
    expect(run.code, run.tail()).toBe(0);
    expect(run.testsWith('expected').length).toBeGreaterThan(1);
    expect(run.summary).toMatch(/^- prelive: \*\*GO\*\*/m);
  }
  expect(list.tests.length).toBeGreaterThanOrEqual(10);
  expect(names(shards.flatMap((s) => s.tests))).toEqual(names(list.tests));
});

test('the shards never share a URL, and every group they made is on the API', async ({ sharded: { shards, api } }) => {
  const made = shards.flatMap((s) => s.ledger);
  expect(made.map((g) => g.status)).toEqual(made.map(() => 'created'));
  expect(new Set(made.map((g) => g.url)).size).toBe(made.length);
  expect(made.map((g) => g.url).sort()).toEqual(api.groups().map((g) => g.url).sort());
});

test('merged, they make one report, one summary with a GO, and one ledger of every group', async ({ sharded: { shards, list, merged } }) => {
  expect(merged.code, merged.tail()).toBe(0);
  expect(names(merged.tests)).toEqual(names(list.tests));
  expect(fs.existsSync(path.join(merged.reportDir, 'index.html'))).toBe(true);
  expect(merged.read('junit.xml')).toContain('<testsuites');
  expect(merged.summary).toMatch(/^- prelive: \*\*GO\*\*/m);
  expect(merged.summary.match(/run `\w+`, seed `QR_SEED=\d+`/g)).toHaveLength(2);
  expect(merged.ledger.map((g) => g.url).sort()).toEqual(shards.flatMap((s) => s.ledger.map((g) => g.url)).sort());
  expect(merged.verdict.ok).toBe(true);
});
