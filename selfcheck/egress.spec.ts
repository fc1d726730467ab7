/**
 * Egress proxies: a machine that reaches the API only through HTTPS_PROXY / HTTP_PROXY. The API
 * here has a host name that only the proxy resolves (api.qr-egress.test, resolved to 127.0.0.1
 * inside this process, where the proxy runs): a request of the suite that bypasses the proxy fails
 * with ENOTFOUND. The suite's loopback traffic (Playwright to its credential proxy) must not go
 * through the egress proxy, and NO_PROXY must send the API's host around it.
 */
import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy } from 'proxy';
import { type Member, runRound } from '../fixtures/harness/proxy/race';
import { API_BASE_PATH, createReferenceApi, listen } from '../reference-api/server';
import { expect, type SuiteRun, test } from './fixtures';

const HOST = 'api.qr-egress.test';
const CLIENT_ID = 'egress-client';
const CLIENT_SECRET = 'egress-secret-3b9f1c0d';
const grant = { sub: 'user-egress-qa', clientId: CLIENT_ID, scope: 'room.create room.read offline_access' };
const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((v) => [v, v.toLowerCase()]);

type Seen = { method: string; target: string };
type Egress = { apiOrigin: string; proxyOrigin: string; seen: Seen[]; api: ReturnType<typeof createReferenceApi> };

// ---- a host name only the proxy resolves ---------------------------------------------------------

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;
const realLookup = dns.lookup;

function resolveHostHere(): void {
  const lookup = (hostname: string, options: unknown, callback?: LookupCallback) => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = (typeof options === 'object' && options) || {};
    if (hostname.toLowerCase() !== HOST)
      return (realLookup as (...args: unknown[]) => void).call(dns, hostname, options, callback);
    const all = (opts as dns.LookupOptions).all;
    process.nextTick(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
  };
  (dns as { lookup: unknown }).lookup = lookup;
}

test.beforeAll(() => resolveHostHere());
test.afterAll(() => {
  (dns as { lookup: unknown }).lookup = realLookup;
});

// ---- the proxy and the API ---------------------------------------------------------------------

async function startEgress(): Promise<Egress & { close: () => Promise<void> }> {
  const api = createReferenceApi({ clients: { [CLIENT_ID]: CLIENT_SECRET } });
  const server = await listen(api);
  const seen: Seen[] = [];
  const proxy = createProxy(http.createServer());
  proxy.on('request', (req: http.IncomingMessage) => seen.push({ method: req.method ?? '', target: req.url ?? '' }));
  proxy.on('connect', (req: http.IncomingMessage) => seen.push({ method: 'CONNECT', target: req.url ?? '' }));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = new URL(server.origin).port;
  return {
    api,
    seen,
    apiOrigin: `http://${HOST}:${port}`,
    proxyOrigin: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await server.close();
    },
  };
}

/** The prelive project pointed at the API through its proxy-only name; every proxy variable cleared unless given. */
function prelive(e: Egress, credentials: { refreshToken?: string; accessToken?: string }, proxyEnv: NodeJS.ProcessEnv) {
  const cleared = Object.fromEntries(PROXY_VARIABLES.map((v) => [v, undefined]));
  return {
    ...cleared,
    PRELIVE_API_BASE_URL: `${e.apiOrigin}${API_BASE_PATH}`,
    PRELIVE_OAUTH_BASE_URL: e.apiOrigin,
    PRELIVE_CLIENT_ID: CLIENT_ID,
    PRELIVE_CLIENT_SECRET: CLIENT_SECRET,
    PRELIVE_REFRESH_TOKEN: credentials.refreshToken,
    PRELIVE_ACCESS_TOKEN: credentials.accessToken,
    ...proxyEnv,
  };
}

const smoke = ['--project=prelive', '--grep', '@smoke'];
const output = (run: SuiteRun) => `${run.stdout}\n${run.stderr}`;
const tail = (run: SuiteRun) => output(run).slice(-2000);
/** ENOTFOUND for the API's host, whatever the wording around it. */
const unresolved = /ENOTFOUND[^\n]*qr-egress\.test|qr-egress\.test[^\n]*ENOTFOUND/;
/** The path of a proxied request, whether absolute-form (`http://host/path`) or a CONNECT (`host:port`). */
const hostOf = (s: Seen) => (s.method === 'CONNECT' ? s.target.replace(/:\d+$/, '') : new URL(s.target).hostname);

for (const letterCase of ['upper', 'lower'] as const) {
  test(`${letterCase}-case HTTP(S)_PROXY: API and token requests go through the proxy, loopback does not`, async ({
    runSuite,
  }) => {
    const e = await startEgress();
    try {
      const names = letterCase === 'upper' ? ['HTTP_PROXY', 'HTTPS_PROXY'] : ['http_proxy', 'https_proxy'];
      const proxyEnv = Object.fromEntries(names.map((n) => [n, e.proxyOrigin]));
      const env = prelive(e, { refreshToken: e.api.issueRefreshToken(grant) }, proxyEnv);
      const run = await runSuite(smoke, env);
      expect(run.code, tail(run)).toBe(0);
      expect(run.testsWith('expected').length).toBeGreaterThan(0);

      const targets = e.seen.map((s) => `${s.method} ${s.target}`);
      const counts = new Map<string, number>();
      const shape = (t: string) => t.replace(/\/group\/[^/]+$/, '/group/<url>').replace(/\/\d+$/, '/<id>');
      for (const t of targets.map(shape)) counts.set(t, (counts.get(t) ?? 0) + 1);
      const description = [...counts].map(([t, n]) => `${n} x ${t}`).join('; ');
      test.info().annotations.push({ type: 'through the proxy', description });
      // Plain-http targets are sent in absolute form; a CONNECT would name only host:port.
      expect(targets).toContain(`POST ${e.apiOrigin}/oauth2/token`);
      expect(targets).toContain(`POST ${e.apiOrigin}${API_BASE_PATH}/v1/rooms/groups`);
      expect(targets.some((t) => t.startsWith(`GET ${e.apiOrigin}${API_BASE_PATH}/v1/rooms/`))).toBe(true);
      // Everything the proxy carried was for the API's host: never the loopback credential proxy.
      expect(e.seen.filter((s) => hostOf(s) !== HOST)).toEqual([]);
      // And everything the API received came through the proxy.
      expect(e.seen.length).toBe(e.api.stats.requests);
    } finally {
      await e.close();
    }
  });
}

test('NO_PROXY covering the host: API and token requests bypass the proxy, so they fail unresolved', async ({
  runSuite,
}) => {
  const e = await startEgress();
  try {
    const proxyEnv = { HTTP_PROXY: e.proxyOrigin, HTTPS_PROXY: e.proxyOrigin, NO_PROXY: `localhost,.qr-egress.test` };
    // An access token: the API requests themselves (through the credential proxy) must bypass.
    const withAccess = prelive(e, { accessToken: e.api.issueAccessToken(grant) }, proxyEnv);
    const api = await runSuite(smoke, withAccess);
    expect(api.code, tail(api)).not.toBe(0);
    expect(output(api)).toMatch(unresolved);
    // A refresh token: the token exchange must bypass too.
    const withRefresh = prelive(e, { refreshToken: e.api.issueRefreshToken(grant) }, proxyEnv);
    const token = await runSuite(smoke, withRefresh);
    expect(token.code, tail(token)).not.toBe(0);
    expect(output(token)).toMatch(unresolved);
    expect(output(token)).toMatch(/token endpoint/);
    expect(e.seen).toEqual([]);
    expect(e.api.stats.requests).toBe(0);
  } finally {
    await e.close();
  }
});

test('a race round goes through the egress proxy too: its warm-up reads and its creates, one group of three', async () => {
  const e = await startEgress();
  const saved = Object.fromEntries(PROXY_VARIABLES.map((v) => [v, process.env[v]]));
  try {
    for (const v of PROXY_VARIABLES) delete process.env[v];
    process.env.HTTP_PROXY = e.proxyOrigin;
    const token = e.api.issueAccessToken(grant);
    const target = new URL(`${e.apiOrigin}${API_BASE_PATH}/v1/rooms/groups`);
    const headers = { 'content-type': 'application/json', 'x-auth-token': token, 'x-client-id': CLIENT_ID };
    const members = [1, 2, 3].map(
      (i): Member => ({
        target,
        method: 'POST',
        headers,
        body: Buffer.from(JSON.stringify({ name: `QA contract test #${i}`, url: 'qa-contract-egress-race' })),
        timeoutMs: 10_000,
        signal: new AbortController().signal,
      }),
    );
    const { outcomes } = await runRound(members);
    expect(outcomes.map((o) => (o.kind === 'answered' ? o.status : o.kind)).sort()).toEqual([201, 400, 400]);
    const through = e.seen.map((s) => `${s.method} ${s.target.replace(/warm-[a-z0-9]+$/, 'warm-<t>')}`);
    expect(through.filter((t) => t === `POST ${target.href}`)).toHaveLength(3);
    expect(
      through.filter((t) => t.startsWith(`GET ${e.apiOrigin}${API_BASE_PATH}/v1/rooms/group/qa-contract-warm-`)),
    ).toHaveLength(3);
  } finally {
    for (const [v, value] of Object.entries(saved))
      if (value === undefined) delete process.env[v];
      else process.env[v] = value;
    await e.close();
  }
});
