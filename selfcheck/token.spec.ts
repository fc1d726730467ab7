/**
 * Issue 4, point 6: refresh-token rotation, unit-style against an in-process reference API.
 * Refresh tokens rotate: the one used stops working. `openSession` stores the new one (owner-only),
 * uses it next time, and lets a newly configured token win over the stored one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import type { SuiteEnvironment } from '../fixtures/env';
import { SuiteSetupError } from '../fixtures/redact';
import { openSession } from '../fixtures/token';
import { createReferenceApi, listen } from '../reference-api/server';
import { tempDir } from './scan';

test('openSession stores the rotated refresh token (0600), uses it next time; the original is refused; a newly configured token wins', async () => {
  const clientId = 'rotation-client';
  const clientSecret = 'rotation-secret-0123456789';
  const issued: string[] = [];
  const api = createReferenceApi({ clients: { [clientId]: clientSecret }, onTokenIssued: (t) => issued.push(t) });
  const server = await listen(api);
  const storeDir = path.join(tempDir('store'), 'auth');
  const grant = { sub: 'user-rotation', clientId, scope: 'room.create room.read offline_access' };
  const env = (refreshToken: string): SuiteEnvironment => ({
    name: 'prelive', apiBaseUrl: `${server.origin}/quran-reflect`, oauthBaseUrl: server.origin, clientId, clientSecret, refreshToken,
    allowWrites: true, privateOnly: false, requestTimeoutMs: 5000,
  });
  const exchange = (refreshToken: string) =>
    fetch(`${server.origin}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string; refresh_token?: string } }));
  const storeFile = path.join(storeDir, 'prelive.refresh.json');
  const stored = () => JSON.parse(fs.readFileSync(storeFile, 'utf8')) as { refreshToken: string; source: string };

  try {
    const original = api.issueRefreshToken(grant);
    const first = await openSession(env(original), { persist: true, storeDir });
    expect(first).toMatchObject({ via: 'refresh-token', userId: 'user-rotation' });
    // The rotated token is stored, owner-only, in an owner-only folder; never the original.
    expect(fs.statSync(storeFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(storeDir).mode & 0o777).toBe(0o700);
    const rotated = stored().refreshToken;
    expect(rotated).not.toBe(original);
    expect(issued).toContain(rotated);
    expect(fs.readFileSync(storeFile, 'utf8')).not.toContain(original);
    expect(fs.readdirSync(storeDir)).toEqual(['prelive.refresh.json']); // no temp file left behind

    // The original is used up: the token endpoint refuses it, and openSession would say what to renew.
    expect(await exchange(original)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await expect(openSession(env(original), { persist: false })).rejects.toThrow(/invalid_grant\. Renew PRELIVE_REFRESH_TOKEN/);

    // Same configuration again: the stored, rotated token is used (the original would be refused), and rotated again.
    const second = await openSession(env(original), { persist: true, storeDir });
    expect(second.via).toBe('refresh-token');
    expect(second.accessToken).not.toBe(first.accessToken);
    const rotatedAgain = stored().refreshToken;
    expect(rotatedAgain).not.toBe(rotated);
    expect(await exchange(rotated)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    // A newly configured token wins over the stored one (which stays unused and valid).
    const fresh = api.issueRefreshToken(grant);
    const third = await openSession(env(fresh), { persist: true, storeDir });
    expect(third.via).toBe('refresh-token');
    expect(await exchange(fresh)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const afterFresh = stored();
    expect(afterFresh.refreshToken).not.toBe(rotatedAgain);
    expect(fs.statSync(storeFile).mode & 0o777).toBe(0o600);
    const stillValid = await exchange(rotatedAgain);
    expect(stillValid.status).toBe(200);

    // A stored token that the server no longer knows: the message says it was the stored one.
    fs.writeFileSync(storeFile, JSON.stringify({ ...afterFresh, refreshToken: 'rt_revoked_000000000000' }), { mode: 0o600 });
    const refused = await openSession(env(fresh), { persist: true, storeDir }).catch((e) => e);
    expect(refused).toBeInstanceOf(SuiteSetupError);
    expect(String(refused.message)).toMatch(/rotated one stored in .*prelive\.refresh\.json.*invalid_grant/);
    expect(String(refused.message)).not.toContain('rt_revoked_000000000000');
  } finally {
    await server.close();
  }
});
