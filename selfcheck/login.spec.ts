/**
 * `npm run login` against the embedded reference API's OAuth2 endpoints, hermetic: the login runs
 * as a child process (no .env, a temporary QR_AUTH_DIR, no browser), and the test plays the
 * browser: it reads the printed authorization URL and follows the redirect to the loopback callback.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createReferenceApi, listen } from '../reference-api/server';
import { expect, freePort, ROOT, tempDir, test } from './fixtures';

const CLIENT_ID = 'login-client';
const CLIENT_SECRET = 'login-secret-5f0c9a7e21d4';
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const LOGIN = path.join(ROOT, 'tools', 'login.ts');

type Api = { origin: string; close: () => Promise<void>; issued: string[] };
type Login = {
  /** The authorization URL, once printed on a line of its own. */
  url: Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
  authDir: string;
};

const redirectUri = (port: number) => `http://127.0.0.1:${port}/callback`;

async function startApi(o: { registeredPort: number; consent?: 'approve' | 'deny' }): Promise<Api> {
  const issued: string[] = [];
  const api = createReferenceApi({
    clients: { [CLIENT_ID]: { secret: CLIENT_SECRET, redirectUris: [redirectUri(o.registeredPort)] } },
    consent: o.consent ?? 'approve',
    onTokenIssued: (token) => issued.push(token),
  });
  return { ...(await listen(api)), issued };
}

function startLogin(api: Api, args: string[]): Login {
  const authDir = path.join(tempDir('login'), 'auth');
  const started = Date.now();
  const child = spawn(process.execPath, [TSX, LOGIN, 'prelive', ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      QR_DOTENV: 'off',
      QR_AUTH_DIR: authDir,
      PRELIVE_CLIENT_ID: CLIENT_ID,
      PRELIVE_CLIENT_SECRET: CLIENT_SECRET,
      PRELIVE_OAUTH_BASE_URL: api.origin,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let found: (url: string) => void;
  const url = new Promise<string>((resolve) => (found = resolve));
  child.stdout.on('data', (d) => {
    stdout += d;
    const line = stdout.split('\n').find((l) => /^https?:\/\/\S+\/oauth2\/auth\?\S+$/.test(l));
    if (line) found(line);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
  return { url, done, authDir };
}

/** What a browser does: the authorization URL redirects (after consent) to the loopback callback. */
type Page = { status: number; body: string };

async function playBrowser(url: string, rewrite = (callback: URL) => callback): Promise<Page> {
  const consent = await fetch(url, { redirect: 'manual' });
  expect(consent.status, 'the authorization endpoint redirects to the callback').toBe(302);
  const callback = rewrite(new URL(consent.headers.get('location')!));
  const page = await fetch(callback);
  return { status: page.status, body: await page.text() };
}

const storeFile = (login: Login) => path.join(login.authDir, 'prelive.refresh.json');

test('a full login stores an owner-only refresh token the OAuth2 server accepts; --show-refresh-token prints it', async () => {
  // Without --show-refresh-token no token is printed: the rehearsal's login (rehearsal.spec.ts) checks that.
  const port = await freePort();
  const api = await startApi({ registeredPort: port });
  try {
    const login = startLogin(api, ['--port', String(port), '--show-refresh-token']);
    const url = new URL(await login.url);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: redirectUri(port),
      scope: 'openid offline_access room',
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')!.length).toBeGreaterThanOrEqual(16);

    const page = await playBrowser(url.toString());
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/close this tab/);
    const run = await login.done;
    expect(run.code, run.stderr).toBe(0);

    const file = storeFile(login);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(login.authDir).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(login.authDir)).toEqual(['prelive.refresh.json']);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    const text = expect.any(String);
    const scope = 'openid offline_access room';
    expect(stored).toEqual({ source: 'login', refreshToken: text, updatedAt: text, scope });
    expect(new Date(stored.updatedAt).toISOString()).toBe(stored.updatedAt);

    // The stored token is a live one: the server exchanges it (the suite's next run does the same).
    const refreshed = await fetch(`${api.origin}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: stored.refreshToken }),
    });
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({ access_token: text, refresh_token: text });

    // The URL on a line of its own, no browser here, the names (never the values) of what CI needs.
    const output = run.stdout + run.stderr;
    expect(run.stdout.split('\n')).toContain(url.toString());
    expect(output).toMatch(/open this URL in a browser/);
    for (const name of ['PRELIVE_CLIENT_ID', 'PRELIVE_CLIENT_SECRET', 'PRELIVE_REFRESH_TOKEN'])
      expect(output).toContain(name);
    expect(output).toMatch(/must not also be used/);
    // The stored refresh token, asked for, on a line of its own; no other token, code or secret.
    expect(api.issued).toContain(stored.refreshToken);
    expect(run.stdout.split('\n')).toContain(stored.refreshToken);
    for (const secret of [...api.issued.filter((t) => t !== stored.refreshToken), CLIENT_SECRET])
      expect(output).not.toContain(secret);
  } finally {
    await api.close();
  }
});

test('a callback with another state is refused: an error page, a non-zero exit saying so, no token', async () => {
  const port = await freePort();
  const api = await startApi({ registeredPort: port });
  try {
    const login = startLogin(api, ['--port', String(port)]);
    const page = await playBrowser(await login.url, (callback) => {
      callback.searchParams.set('state', 'forged-state-0123456789');
      return callback;
    });
    expect(page.status).toBe(400);
    expect(page.body).toMatch(/wrong state/);
    const run = await login.done;
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/state that is not the one this login sent/);
    expect(fs.existsSync(storeFile(login))).toBe(false);
  } finally {
    await api.close();
  }
});

test('a refused consent (access_denied) ends the login with a clear message, no token', async () => {
  const port = await freePort();
  const api = await startApi({ registeredPort: port, consent: 'deny' });
  try {
    const login = startLogin(api, ['--port', String(port)]);
    const page = await playBrowser(await login.url);
    expect(page.body).toMatch(/access_denied/);
    const run = await login.done;
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Consent was refused \(access_denied\)/);
    expect(fs.existsSync(storeFile(login))).toBe(false);
  } finally {
    await api.close();
  }
});

test('a redirect URI the server does not allow fails fast, naming the URI to register and --port', async () => {
  const registered = await freePort();
  let port = await freePort();
  while (port === registered) port = await freePort();
  const api = await startApi({ registeredPort: registered });
  try {
    const login = startLogin(api, ['--port', String(port)]);
    const run = await login.done;
    expect(run.code).not.toBe(0);
    // Before any waiting for a browser (the default wait is 5 minutes).
    expect(run.ms).toBeLessThan(15_000);
    expect(run.stderr).toContain(redirectUri(port));
    expect(run.stderr).toContain(CLIENT_ID);
    expect(run.stderr).toMatch(/invalid_request/);
    expect(run.stderr).toMatch(/--port/);
    expect(run.stdout).not.toMatch(/Waiting for the browser/);
  } finally {
    await api.close();
  }
});
