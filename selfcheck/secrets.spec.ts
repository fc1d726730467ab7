/**
 * No secret reaches anything a run leaves behind. The scanner (scan.ts) is proven first, on a
 * planted secret in every form and container it claims to open. Then one run fails three ways,
 * one per environment, with every kind of credential configured: local's check fails (its API
 * inverts a flag; the embedded API's secrets are logged), prelive's create hangs (access token,
 * refresh token and client secret set), production's create drops its connection (a refresh
 * token exchanged, writes on). Every artifact of that run is scanned, and its console.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync, strToU8, zipSync } from 'fflate';
import { refreshStoreFile } from '../fixtures/settings';
import { test as base, expect, pointAt, type SuiteRun, tempDir } from './fixtures';
import { type ScanReport, Scanner, type Secret, scanRun, secretsFromLog } from './scan';

type Failing = { run: SuiteRun; secrets: Secret[]; scan: ScanReport };
const test = base.extend<{}, { failing: Failing }>({
  failing: [
    async ({ shareRun, shareReferenceApi }, use) => {
      const issued: string[] = [];
      const clientSecret = `remote-secret-${Date.now()}`;
      const api = await shareReferenceApi({ clients: { remote: clientSecret }, onTokenIssued: (t) => issued.push(t) });
      const grant = { sub: 'user-remote-qa', clientId: 'remote', scope: 'room.create room.read offline_access' };
      const secretsLog = path.join(tempDir('secrets'), 'secrets.txt');
      const run = await shareRun('failing', ['--grep', '@smoke'], {
        QR_REFERENCE_FAULT: 'hide-button-inverted',
        QR_SECRETS_LOG: secretsLog,
        ...pointAt('PRELIVE', api.origin, {
          clientId: 'remote', clientSecret, accessToken: api.issueAccessToken(grant), refreshToken: api.issueRefreshToken(grant),
        }, 'create-hangs'),
        ...pointAt('PRODUCTION', api.origin, { clientId: 'remote', clientSecret, refreshToken: api.issueRefreshToken(grant) }, 'create-drops-connection'),
        PRODUCTION_ALLOW_WRITES: 'true',
        QR_REQUEST_TIMEOUT_MS: '1000',
      });
      const secrets = [...secretsFromLog(secretsLog), ...[clientSecret, ...issued].map((value, i) => ({ label: `remote #${i}`, value }))];
      await use({ run, secrets, scan: scanRun(run, secrets) });
    },
    { scope: 'worker' },
  ],
});
const planted: Secret = { label: 'planted', value: 'planted/Secret+v4lue=0123456789' };
const zip = (name: string, data: Uint8Array) => Buffer.from(zipSync({ [name]: data }));
/** Where the planted secret hides, and where the scan must say it found it. */
const hidingPlaces: [string, (dir: string) => string, RegExp][] = [
  ['as is in a file', (d) => write(d, 'plain.txt', `x-auth-token: ${planted.value}`), /^plain\.txt \[plain\]$/],
  ['in a gzip body inside a zip (a trace)', (d) => write(d, 'trace.zip', zip('resources/abc', gzipSync(strToU8(`token ${planted.value}`)))), /^trace\.zip!resources\/abc!gunzip \[plain\]$/],
  [
    "in a zip in base64 in a zip in base64 (the HTML report's data)",
    (d) => {
      const trace = zip('trace.network', strToU8(`{"value":"${planted.value}"}`)).toString('base64');
      const data = zip('report.json', strToU8(JSON.stringify({ trace }))).toString('base64');
      return write(d, 'index.html', `<template>data:application/zip;base64,${data}</template>`);
    },
    /^index\.html!base64#0!report\.json!base64#0!trace\.network \[plain\]$/,
  ],
  ['in base64 after another value (a Basic header)', (d) => write(d, 'basic.txt', `Basic ${Buffer.from(`client-id:${planted.value}`).toString('base64')}`), /^basic\.txt \[base64 \(offset \d\)\]$/],
  ['URL-encoded', (d) => write(d, 'form.txt', `refresh_token=${encodeURIComponent(planted.value)}`), /^form\.txt \[url-encoded\]$/],
];
function write(dir: string, name: string, data: string | Buffer) {
  fs.writeFileSync(path.join(dir, name), data);
  return dir;
}
const found = (r: ScanReport, dir: string) => r.hits.map((h) => `${path.relative(dir, h.where)} [${h.form}]`);

test('the scanner finds nothing where there is nothing, and opens what it reads', () => {
  const dir = tempDir('clean');
  write(dir, 'trace.zip', zip('resources/abc', gzipSync(strToU8('nothing secret'))));
  const r = new Scanner([planted]).scanPath(dir).scanText('console', 'nothing here').report;
  expect([r.hits, r.unreadable, r.containers]).toEqual([[], [], { 'zip entry': 1, gzip: 1 }]);
});

for (const [where, plant, expected] of hidingPlaces)
  test(`the scanner finds a planted secret ${where}`, () => {
    const dir = plant(tempDir('plant'));
    const r = new Scanner([planted]).scanPath(dir).report;
    expect(found(r, dir)).toEqual([expect.stringMatching(expected)]);
  });

// ---- one run failing three ways ---------------------------------------------------------------

test.describe('one run failing three ways', () => {
  test.describe.configure({ mode: 'default' });

  test('each environment failed as intended: a broken check, no answer, a dropped connection', async ({ failing: { run } }) => {
    const errors = (environment: string) => run.testsWith('unexpected').filter((t) => t.projectName === environment).flatMap((t) => t.errors).join('\n');
    expect(errors('local')).toContain('[create-echo]');
    expect(errors('prelive')).toContain('Received: no answer within 1000 ms (QR_REQUEST_TIMEOUT_MS)');
    expect(errors('production')).toContain('the connection was closed without an HTTP answer');
  });

  test('runs failing three ways leave no secret in any artifact or the console', async ({ failing: { secrets, scan } }) => {
    // The embedded API's client secret and refresh token, an exchange's access and rotated refresh
    // token per environment exchanging one, and the remote client's secret and tokens.
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    expect(scan.unreadable).toEqual([]);
    expect(scan.hits).toEqual([]);
  });

  test("the scan opened every kind of artifact: traces' network logs, the HTML report's data, JUnit, JSON, the ledger", async ({ failing: { scan } }) => {
    const opened = (pattern: RegExp) => scan.scanned.some((p) => pattern.test(p));
    expect(opened(/trace\.zip!.*\.network$/), 'a trace').toBe(true);
    expect(opened(/index\.html!base64/), 'the HTML report').toBe(true);
    expect(opened(/junit\.xml$/), 'JUnit').toBe(true);
    expect(opened(/results\.json$/), 'JSON').toBe(true);
    expect(opened(/created-groups\.json$/), 'the ledger').toBe(true);
  });

  test('a create that got no answer is in the ledger, its outcome unknown', async ({ failing: { run } }) => {
    expect(run.ledger.filter((e) => e.environment === 'prelive').map((e) => [e.status, e.visibility])).toEqual([['unknown', 'unknown']]);
  });

  test('the rotated refresh token is kept for the next run, outside every report', async ({ failing: { run, secrets } }) => {
    const stored = JSON.parse(fs.readFileSync(refreshStoreFile(run.authDir, 'production'), 'utf8')).refreshToken;
    expect(secrets.map((s) => s.value)).toContain(stored);
    expect(path.relative(run.dir, run.authDir).startsWith('..')).toBe(true);
  });
});
