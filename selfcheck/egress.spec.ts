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
import { ownOutboundDispatcher, undici } from '../fixtures/config/outbound';
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

/** An environment (`PRELIVE`, `PRODUCTION`) pointed at the API through its proxy-only name. */
function pointed(prefix: string, e: Egress, credentials: { refreshToken?: string; accessToken?: string }) {
  return {
    [`${prefix}_API_BASE_URL`]: `${e.apiOrigin}${API_BASE_PATH}`,
    [`${prefix}_OAUTH_BASE_URL`]: e.apiOrigin,
    [`${prefix}_CLIENT_ID`]: CLIENT_ID,
    [`${prefix}_CLIENT_SECRET`]: CLIENT_SECRET,
    [`${prefix}_REFRESH_TOKEN`]: credentials.refreshToken,
    [`${prefix}_ACCESS_TOKEN`]: credentials.accessToken,
  };
}

/** The prelive project pointed at the API; every proxy variable cleared unless given. */
function prelive(e: Egress, credentials: { refreshToken?: string; accessToken?: string }, proxyEnv: NodeJS.ProcessEnv) {
  const cleared = Object.fromEntries(PROXY_VARIABLES.map((v) => [v, undefined]));
  return { ...cleared, ...pointed('PRELIVE', e, credentials), ...proxyEnv };
}

/** Runs `fn` with only the given proxy variables set in this process, then puts them back as they were. */
async function withProxyVariables<T>(given: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(PROXY_VARIABLES.map((v) => [v, process.env[v]]));
  try {
    for (const v of PROXY_VARIABLES) delete process.env[v];
    Object.assign(process.env, given);
    return await fn();
  } finally {
    for (const [v, value] of Object.entries(saved))
      if (value === undefined) delete process.env[v];
      else process.env[v] = value;
  }
}

const smoke = ['--project=prelive', '--grep', '@smoke'];
const output = (run: SuiteRun) => `${run.stdout}\n${run.stderr}`;
const tail = (run: SuiteRun) => output(run).slice(-2000);
/** ENOTFOUND for the API's host, whatever the wording around it. */
const unresolved = /ENOTFOUND[^\n]*qr-egress\.test|qr-egress\.test[^\n]*ENOTFOUND/;
/** The path of a proxied request, whether absolute-form (`http://host/path`) or a CONNECT (`host:port`). */
const hostOf = (s: Seen) => (s.method === 'CONNECT' ? s.target.replace(/:\d+$/, '') : new URL(s.target).hostname);

test('upper-case HTTP(S)_PROXY: API and token requests go through the proxy, loopback does not', async ({
  runSuite,
}) => {
  const e = await startEgress();
  try {
    const proxyEnv = { HTTP_PROXY: e.proxyOrigin, HTTPS_PROXY: e.proxyOrigin };
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

test('lower-case http_proxy is read as HTTP_PROXY is, and wins over it: token and API requests through it, loopback direct', async () => {
  // The child run above proves that every outbound call of a run goes through outbound.ts; the names it reads
  // are proven here, in-process, on the dispatcher it builds (a child run costs seconds of CPU).
  const e = await startEgress();
  const dead = 'http://127.0.0.1:9';
  try {
    const statuses = await withProxyVariables({ http_proxy: e.proxyOrigin, HTTP_PROXY: dead }, async () => {
      const dispatcher = ownOutboundDispatcher();
      const send = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) =>
        (await undici().fetch(url, { ...init, dispatcher, signal: AbortSignal.timeout(10_000) })).status;
      const token = await send(`${e.apiOrigin}/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: e.api.issueRefreshToken(grant),
        }).toString(),
      });
      const headers = { 'x-auth-token': e.api.issueAccessToken(grant), 'x-client-id': CLIENT_ID };
      const read = await send(`${e.apiOrigin}${API_BASE_PATH}/v1/rooms/1`, { headers });
      const loopback = await send(`http://127.0.0.1:${new URL(e.apiOrigin).port}${API_BASE_PATH}/v1/rooms/1`, {
        headers,
      });
      return { token, read, loopback };
    });
    expect(statuses.token).toBe(200);
    // Both reads answered by the API, one through the proxy, one direct.
    expect(statuses.read).toBe(statuses.loopback);
    expect(e.seen.map((s) => `${s.method} ${s.target}`)).toEqual([
      `POST ${e.apiOrigin}/oauth2/token`,
      `GET ${e.apiOrigin}${API_BASE_PATH}/v1/rooms/1`,
    ]);
    expect(e.api.stats.requests).toBe(3);
  } finally {
    await e.close();
  }
});

test('NO_PROXY covering the host: API and token requests bypass the proxy, so they fail unresolved', async ({
  runSuite,
}) => {
  const e = await startEgress();
  try {
    const proxyEnv = { HTTP_PROXY: e.proxyOrigin, HTTPS_PROXY: e.proxyOrigin, NO_PROXY: `localhost,.qr-egress.test` };
    // One run, two environments: prelive with an access token (the API requests themselves, through the
    // credential proxy, must bypass), production with a refresh token (the token exchange must bypass too).
    // One test each: a failed test's worker is replaced before the next, a second process per environment.
    const args = ['--project=prelive', '--project=production', '--grep', 'a create without an access token'];
    const run = await runSuite(args, {
      ...prelive(e, { accessToken: e.api.issueAccessToken(grant) }, proxyEnv),
      ...pointed('PRODUCTION', e, { refreshToken: e.api.issueRefreshToken(grant) }),
    });
    expect(run.code, tail(run)).not.toBe(0);
    const failure = (environment: string) =>
      run.tests
        .filter((t) => t.projectName === environment)
        .flatMap((t) => t.errors)
        .join('\n');
    expect(failure('prelive'), tail(run)).toMatch(unresolved);
    expect(failure('production'), tail(run)).toMatch(unresolved);
    expect(failure('production')).toMatch(/token endpoint/);
    expect(e.seen).toEqual([]);
    expect(e.api.stats.requests).toBe(0);
  } finally {
    await e.close();
  }
});

test('a race round goes through the egress proxy too: its warm-up reads and its creates, one group of three', async () => {
  const e = await startEgress();
  try {
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
    const { outcomes } = await withProxyVariables({ HTTP_PROXY: e.proxyOrigin }, () => runRound(members));
    expect(outcomes.map((o) => (o.kind === 'answered' ? o.status : o.kind)).sort()).toEqual([201, 400, 400]);
    const through = e.seen.map((s) => `${s.method} ${s.target.replace(/warm-[a-z0-9]+$/, 'warm-<t>')}`);
    expect(through.filter((t) => t === `POST ${target.href}`)).toHaveLength(3);
    expect(
      through.filter((t) => t.startsWith(`GET ${e.apiOrigin}${API_BASE_PATH}/v1/rooms/group/qa-contract-warm-`)),
    ).toHaveLength(3);
  } finally {
    await e.close();
  }
});
