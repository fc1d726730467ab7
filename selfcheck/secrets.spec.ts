/**
 * Issue 4, point 3: no secret reaches anything a run leaves behind. The suite runs with known
 * secret values against failing reference APIs (a timeout, a dropped connection, an assertion
 * failure; the token endpoint's refusals are in resilience.spec.ts) and every artifact is scanned:
 * the output folder with trace.zip contents, the HTML report with its embedded data, JUnit, JSON,
 * the ledger, attachments, and the console. The scanner itself is proven first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { createReferenceApi, listen } from '../reference-api/server';
import { runSuite, type SuiteRun } from './harness';
import { kindOf, pointAt, readZip, scanRun, Scanner, secretsFromLog, tempDir, writeZip, type ScanReport, type Secret } from './scan';

/** What a scan covered, for the test's annotations (the figures of the report). */
function coverage(name: string, r: ScanReport) {
  const containers = Object.entries(r.containers).map(([k, v]) => `${v} ${k}`).join(', ');
  test.info().annotations.push({ type: 'scan', description: `${name}: ${r.files} files, ${r.embedded} embedded (${containers}), ${(r.bytes / 1e6).toFixed(1)} MB, ${r.hits.length} hits` });
}

/** The scan found every kind of artifact it claims to cover, could open all of it, and found nothing. */
function expectClean(name: string, run: SuiteRun, secrets: Secret[], opts: { traces: boolean }) {
  const r = scanRun(run, secrets);
  coverage(name, r);
  expect(r.unreadable, `${name}: containers the scan could not open`).toEqual([]);
  expect(r.scanned.some((p) => p.endsWith('junit.xml')), `${name}: JUnit scanned`).toBe(true);
  expect(r.scanned.some((p) => p.endsWith('results.json')), `${name}: JSON report scanned`).toBe(true);
  expect(r.scanned.some((p) => p.endsWith('created-groups.json')), `${name}: ledger scanned`).toBe(true);
  expect(r.scanned.some((p) => p.includes('index.html!base64')), `${name}: HTML report's embedded data opened`).toBe(true);
  if (opts.traces) expect(r.scanned.some((p) => /trace\.zip!.*\.network$/.test(p)), `${name}: a trace's network log opened`).toBe(true);
  expect(r.hits, `${name}: secrets found in artifacts or console`).toEqual([]);
  return r;
}

test('the scanner finds a planted secret in a plain file, inside a zip, gzip, base64 and a Basic header', () => {
  const dir = tempDir('plant');
  const secret: Secret = { label: 'planted', value: 'planted/Secret+v4lue=0123456789' };
  const clean = new Scanner([secret]).scanPath(dir).scanText('console', 'nothing here').report;
  expect(clean.hits).toEqual([]);

  fs.writeFileSync(path.join(dir, 'plain.txt'), `x-auth-token: ${secret.value}\n`);
  const inner = writeZip([{ name: 'trace.network', data: Buffer.from(`{"headers":[{"name":"x-auth-token","value":"${secret.value}"}]}`) }]);
  expect(readZip(inner).map((e) => e.name)).toEqual(['trace.network']);
  // A trace.zip inside a report's data: URL, as the HTML report embeds it.
  fs.writeFileSync(path.join(dir, 'trace.zip'), writeZip([{ name: 'resources/abc', data: gzipSync(`token ${secret.value}`) }]));
  fs.writeFileSync(path.join(dir, 'index.html'), `<template>data:application/zip;base64,${writeZip([{ name: 'report.json', data: Buffer.from(JSON.stringify({ inner: inner.toString('base64') })) }]).toString('base64')}</template>`);
  fs.writeFileSync(path.join(dir, 'basic.txt'), `authorization: Basic ${Buffer.from(`client-id:${secret.value}`).toString('base64')}`);
  const r = new Scanner([secret]).scanPath(dir).scanText('console', `refresh=${encodeURIComponent(secret.value)}`).report;
  const where = r.hits.map((h) => `${h.where.startsWith(dir) ? path.relative(dir, h.where) : h.where} [${h.form}]`);
  expect(where).toContain('plain.txt [plain]');
  expect(where).toContain('trace.zip!resources/abc!gunzip [plain]');
  expect(where.some((w) => /^index\.html!base64#0!report\.json!base64#0!trace\.network \[plain\]$/.test(w)), where.join('\n')).toBe(true);
  expect(where.some((w) => /^basic\.txt \[base64 \(offset \d\)\]$/.test(w)), where.join('\n')).toBe(true);
  expect(where).toContain('console [url-encoded]');
  expect(r.unreadable).toEqual([]);
});

test('local runs against a hanging create, a dropped connection and an assertion failure leave no secret behind', async () => {
  const auth = tempDir('auth');
  const logs = { hang: tempDir('log'), drop: tempDir('log'), assert: tempDir('log') };
  const run = (name: keyof typeof logs, fault: string, extra: NodeJS.ProcessEnv = {}) =>
    runSuite(`secrets-local-${name}`, ['--project=local', '--grep', '@smoke'], {
      QR_REFERENCE_FAULT: fault, QR_SECRETS_LOG: path.join(logs[name], 'secrets.txt'), QR_AUTH_DIR: auth, QR_WORKERS: '1', ...extra,
    });
  const [hang, drop, assert] = await Promise.all([
    run('hang', 'create-hangs', { QR_REQUEST_TIMEOUT_MS: '2000' }),
    run('drop', 'create-drops-connection'),
    run('assert', 'hide-button-inverted'),
  ]);
  const cases = { hang, drop, assert } as const;
  for (const [name, r] of Object.entries(cases)) {
    const secrets = secretsFromLog(path.join(logs[name as keyof typeof logs], 'secrets.txt'));
    // The reference API issued a client secret, the refresh token, and the exchange's access and rotated refresh token.
    expect(new Set(secrets.map((s) => kindOf(s.value))), `${name}: secrets known`).toEqual(new Set(['client secret', 'refresh token', 'access token']));
    expect(r.code, `${name}: the run fails`).not.toBe(0);
    expectClean(name, r, secrets, { traces: true });
  }
  // The failures are the ones intended.
  const errors = (r: SuiteRun) => (r.report?.tests ?? []).flatMap((t) => t.errors).join('\n');
  expect(errors(hang)).toContain('got no answer within 2000 ms');
  expect(errors(drop)).toContain('the connection was closed without an HTTP answer');
  expect(errors(assert)).toContain('[create-echo]');
});

test('remote-style runs (access token, refresh token and client secret set) against failing APIs leave no secret behind', async () => {
  const issued: string[] = [];
  const clientId = 'remote-client';
  const clientSecret = `remote-secret-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const grant = { sub: 'user-remote-qa', clientId, scope: 'room.create room.read offline_access' };
  const hangApi = createReferenceApi({ fault: 'create-hangs', clients: { [clientId]: clientSecret }, onTokenIssued: (t) => issued.push(t) });
  const dropApi = createReferenceApi({ fault: 'create-drops-connection', clients: { [clientId]: clientSecret }, onTokenIssued: (t) => issued.push(t) });
  const [hangAt, dropAt] = await Promise.all([listen(hangApi), listen(dropApi)]);
  try {
    const [hang, drop] = await Promise.all([
      // prelive, everything configured: the access token is used, the others must not leak either.
      runSuite('secrets-remote-hang', ['--project=prelive', '--grep', '@smoke'], {
        ...pointAt('PRELIVE', hangAt.origin, { clientId, clientSecret, accessToken: hangApi.issueAccessToken(grant), refreshToken: hangApi.issueRefreshToken(grant) }),
        QR_REQUEST_TIMEOUT_MS: '2000', QR_WORKERS: '1',
      }),
      // production with writes, refresh token only: the exchange runs, its rotated token is stored.
      runSuite('secrets-remote-drop', ['--project=production', '--grep', '@smoke'], {
        ...pointAt('PRODUCTION', dropAt.origin, { clientId, clientSecret, refreshToken: dropApi.issueRefreshToken(grant) }),
        PRODUCTION_ALLOW_WRITES: 'true', QR_WORKERS: '1',
      }),
    ]);
    const secrets: Secret[] = [clientSecret, ...issued].map((value, i) => ({ label: `${kindOf(value)} #${i}`, value }));
    expect(secrets.length).toBeGreaterThanOrEqual(6); // secret, 2 access + 2 refresh issued up front, exchange: access + rotated refresh
    for (const [name, r] of Object.entries({ hang, drop })) {
      expect(r.code, `${name}: the run fails`).not.toBe(0);
      expect(r.report?.tests.some((t) => t.projectName.endsWith(':setup') && t.status === 'expected'), `${name}: the token step ran`).toBe(true);
      expectClean(name, r, secrets, { traces: true });
    }
  } finally {
    await Promise.all([hangAt.close(), dropAt.close()]);
  }
});
