/**
 * What a run leaves in production, where nothing can be deleted: without PRODUCTION_ALLOW_WRITES
 * no group, on the most tolerant faithful server and on every faithful variant of it (what the run let through is
 * sent to each again), and on a server lenient enough to accept the 400 checks' bodies, only private
 * test groups; with it, 2 private, recognisable groups per full run; every group in the ledger, as the
 * API answered it. Production is a reference API served in-process: full child runs for what a
 * run does, the credential proxy alone for what it lets through to a lenient server.
 *
 * And what the sharper probes cost in groups: on the most tolerant faithful server (it accepts every text
 * bundle and refuses the typed group's undocumented fields, so that group's round goes twice), a full prelive
 * run makes at most 6 groups and a smoke run 1. Prelive rides along in the read-only run and in the smoke run
 * (a child run costs seconds of CPU whatever it tests); every assertion about production reads production's
 * tests and groups only.
 */

import type { IncomingMessage } from 'node:http';
import { NAME_PREFIX, TestData, URL_PREFIX } from '../fixtures/contract/data';
import { readLedger } from '../fixtures/contract/ledger-format';
import { negativeCases } from '../fixtures/contract/request-space';
import { CALL_HEADER } from '../fixtures/harness/proxy/forwarder';
import { variantNames } from '../reference-api/faults';
import { API_BASE_PATH, type InstanceName, instanceBasePath } from '../reference-api/server';
import { test as base, expect, type Forwarder, pointAt, type ServedApi, type SuiteRun } from './fixtures';

const grant = { sub: 'user-production-qa', clientId: 'prod-client', scope: 'room.create room.read' };
const production = (api: ServedApi, writes: boolean) => ({
  ...pointAt('PRODUCTION', api.origin, { clientId: grant.clientId, accessToken: api.issueAccessToken(grant) }),
  PRODUCTION_ALLOW_WRITES: String(writes),
});

type Production = { run: SuiteRun; api: ServedApi };
/** A request as the API received it. */
type Received = { method: string; path: string; headers: Record<string, string>; body: Buffer };
/** The prelive API a run also tested: the most tolerant faithful server. */
type Tolerant = { prelive: ServedApi };
const tolerantPrelive = (api: ServedApi) =>
  pointAt('PRELIVE', api.origin, {
    clientId: grant.clientId,
    accessToken: api.issueAccessToken({ ...grant, sub: 'user-tolerant-qa' }),
  });
const test = base.extend<{
  readOnly: Production & Tolerant & { received: Received[] };
  withWrites: Production;
  smoke: Production & Tolerant;
}>({
  readOnly: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(
      await once('read-only', async () => {
        const [api, prelive] = await Promise.all([
          shareReferenceApi({ variant: 'most-tolerant' }),
          shareReferenceApi({ variant: 'most-tolerant' }),
        ]);
        const received = recorded(api);
        const env = { ...production(api, false), ...tolerantPrelive(prelive) };
        const run = await shareRun('read-only', ['--project=production', '--project=prelive'], env);
        return { run, api, received, prelive };
      }),
    ),
  withWrites: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(
      await once('with-writes', async () => {
        const api = await shareReferenceApi();
        return { run: await shareRun('with-writes', ['--project=production'], production(api, true)), api };
      }),
    ),
  smoke: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(
      await once('smoke', async () => {
        const [api, prelive] = await Promise.all([
          shareReferenceApi(),
          shareReferenceApi({ variant: 'most-tolerant' }),
        ]);
        const args = ['--project=production', '--project=prelive', '--grep', '@smoke'];
        const env = { ...production(api, true), ...tolerantPrelive(prelive) };
        return { run: await shareRun('smoke', args, env), api, prelive };
      }),
    ),
});
/** The run's tests in production, or the groups of its ledger. */
const inProduction = <T extends { projectName: string } | { environment: string }>(items: T[]) =>
  items.filter((i) => ('projectName' in i ? i.projectName : i.environment) === 'production');

/** What a run that may write to production says before its first test. */
const announced =
  /^production: PRODUCTION_ALLOW_WRITES=true for this run: it may create up to (\d+) group\(s\), all private/m;

test.describe('without PRODUCTION_ALLOW_WRITES', () => {
  test.describe.configure({ mode: 'default' });

  test('a full run creates no group, by the API and by the ledger', async ({ readOnly: { run, api } }) => {
    expect(run.code, run.tail()).toBe(0);
    expect(api.stats.groupsCreated).toBe(0);
    expect(inProduction(run.ledger)).toEqual([]);
  });

  test('every create it let through, every faithful variant of the reference API refuses: 0 groups on each', async ({
    readOnly: { run, api, received },
  }) => {
    expect(run.code, run.tail()).toBe(0);
    const creates = received.filter((r) => r.method === 'POST' && r.path.endsWith('/v1/rooms/groups'));
    expect(creates.length).toBeGreaterThanOrEqual(20);
    const servers: InstanceName[] = ['faithful', ...variantNames];
    const statuses = await Promise.all(
      servers.flatMap((name) =>
        creates.map(async (c) => {
          const { method, headers, body } = c;
          const answer = await fetch(`${api.origin}${instanceBasePath(name)}/v1/rooms/groups`, {
            method,
            headers,
            body,
          });
          return answer.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s < 400)).toEqual([]);
    expect(servers.filter((name) => api.instance(name).stats.groupsCreated !== 0)).toEqual([]);
  });

  test('every test that could make a group is skipped, saying why', async ({ readOnly: { run } }) => {
    const reasons = inProduction(run.testsWith('skipped')).map(
      (t) => t.annotations.find((a) => a.type === 'skip')?.description ?? '',
    );
    const needsAGroup = /^creates a group: production writes are off \(set PRODUCTION_ALLOW_WRITES=true to opt in\)$/;
    const couldMakeOne =
      /^not sent \(write guard\): |^in production: production groups are .*public: false|^never in production: /;
    expect(reasons.filter((r) => needsAGroup.test(r)).length).toBeGreaterThanOrEqual(15);
    expect(reasons.filter((r) => !needsAGroup.test(r) && !couldMakeOne.test(r))).toEqual([]);
    // A test whose every case only a public group covers is skipped as a whole, saying why, not passed empty.
    const leftOut = inProduction(run.tests).find((t) =>
      t.title.startsWith('a create succeeds with optional fields left out'),
    );
    expect(leftOut?.status).toBe('skipped');
    expect(leftOut?.annotations.find((a) => a.type === 'skip')?.description).toMatch(couldMakeOne);
  });

  test('the 400 and 401 checks still run, and pass', async ({ readOnly: { run } }) => {
    const refused = inProduction(run.testsWith('expected')).filter((t) => t.title.includes('refused with 400'));
    expect(refused).toHaveLength(3);
    // The cases the guard held back (a lenient server could make them a group) are named in their test.
    const notSent = refused.flatMap((t) => t.annotations.filter((a) => a.type === 'not-run'));
    expect(notSent.length).toBeGreaterThan(0);
    for (const a of notSent)
      expect(a.description).toMatch(/^(public|url): [^:]+: not sent \(write guard\): a create with /);
    // The refusals of credentials: a missing token, and the wrong ones (x-client-id left out is not sent: it carries the
    // real token with a valid body).
    const credentials = inProduction(run.testsWith('expected')).filter((t) =>
      /^a create with(out)? .*(token|JWT)/.test(t.title),
    );
    expect(credentials).toHaveLength(2);
    expect(credentials.flatMap((t) => t.annotations.filter((a) => a.type === 'not-run'))).toEqual([
      expect.objectContaining({ description: expect.stringMatching(/^no x-client-id: /) }),
    ]);
    expect(run.testsWith('unexpected')).toEqual([]);
  });

  test('it announces no writes', async ({ readOnly: { run } }) => {
    expect(run.stdout).not.toMatch(announced);
    // The run's prelive groups are listed; none of production's.
    expect(run.stdout).not.toMatch(/^Groups created .*\bproduction: /m);
    expect(run.summary).not.toMatch(/^\d+ group\(s\) \(.*\bproduction: /m);
  });

  test('its GO is not a go-live GO, and the console says why each clause was not verified, and how to opt in', async ({
    readOnly: { run },
  }) => {
    const unverified = /, but \d+ clause\(s\) not verified \(see why below\): .*create-201.*read-by-url/;
    expect(run.summary).toMatch(new RegExp(`^- production: \\*\\*GO\\*\\* .*${unverified.source}`, 'm'));
    expect(run.stdout).toMatch(/production: GO \(not a go-live GO\), but \d+ clause\(s\) not verified/);
    expect(run.stdout).toMatch(
      /^ {4}production, not verified: create-201, .*: creates a group: production writes are off \(set PRODUCTION_ALLOW_WRITES=true to opt in\)$/m,
    );
    expect(run.stdout).toMatch(
      /^ {4}production, not verified: rejected-no-side-effect: production is read-only in this run, so no group of the run shows that a read by url works \(opt in: PRODUCTION_ALLOW_WRITES=true/m,
    );
    expect(run.verdict).toMatchObject({ ok: true, goLive: false });
    console.log(run.stdout.slice(run.stdout.indexOf('Contract verdict')));
  });

  test('on the most tolerant faithful server, a full prelive run makes at most 6 groups, production without the opt-in none', async ({
    readOnly: { run, api, prelive },
  }) => {
    expect(run.code, run.tail()).toBe(0);
    const made = prelive.stats.groupsCreated;
    test.info().annotations.push({
      type: 'groups',
      description: `the most tolerant faithful server: ${made} groups in a full prelive run`,
    });
    expect(made).toBeLessThanOrEqual(6);
    // Both text bundles were accepted, so the cap was really tested.
    const bundles = run.tests.filter((t) => t.tags.includes('@text-no-server-error') && t.projectName === 'prelive');
    expect(bundles.map((t) => t.status)).toEqual(['expected', 'expected']);
    expect(api.stats.groupsCreated).toBe(0);
  });
});

test.describe('with PRODUCTION_ALLOW_WRITES', () => {
  test.describe.configure({ mode: 'default' });

  test('a full run creates 2 groups, private and recognisable as the API holds them', async ({
    withWrites: { run, api },
  }) => {
    expect(run.code, run.tail()).toBe(0);
    const made = api.groups();
    expect(made).toHaveLength(2);
    // Announced before the first test, and the figure is the full run's.
    expect(announced.exec(run.stdout)?.[1]).toBe('2');
    for (const g of made)
      expect([g.isPublic, g.url.startsWith(URL_PREFIX), g.name.startsWith(NAME_PREFIX)]).toEqual([false, true, true]);
  });

  test('the ledger lists each group with its visibility, test and time', async ({ withWrites: { run, api } }) => {
    expect(run.ledger.map((e) => e.url).sort()).toEqual(
      api
        .groups()
        .map((g) => g.url)
        .sort(),
    );
    for (const e of run.ledger) {
      expect(e).toMatchObject({
        environment: 'production',
        status: 'created',
        public: false,
        visibility: 'private',
        requestedPublic: false,
      });
      expect(e.test).toBeTruthy();
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
  });
});

test.describe('the go-live check, opted in on its command line', () => {
  test.describe.configure({ mode: 'default' });

  test('a smoke run makes exactly one private group, announced before its first test', async ({
    smoke: { run, api },
  }) => {
    expect(run.code, run.tail()).toBe(0);
    expect(api.groups().map((g) => g.isPublic)).toEqual([false]);
    expect(inProduction(run.ledger).map((e) => [e.environment, e.visibility])).toEqual([['production', 'private']]);
    const notice = announced.exec(run.stdout);
    expect(notice, run.tail()).not.toBeNull();
    expect(Number(notice![1])).toBeGreaterThanOrEqual(1);
    expect(notice!.index).toBeLessThan(run.stdout.indexOf('Running '));
    expect(run.stdout).toContain('nothing can delete; each is listed in ');
  });

  test('on the most tolerant faithful server, a smoke prelive run makes 1 group', async ({
    smoke: { run, prelive },
  }) => {
    expect(run.code, run.tail()).toBe(0);
    const made = prelive.stats.groupsCreated;
    test
      .info()
      .annotations.push({ type: 'groups', description: `the most tolerant faithful server: ${made} in a smoke run` });
    expect(made).toBe(1);
  });

  test('its summary says how many groups it made and where the ledger is', async ({ smoke: { run } }) => {
    // Production's group, and the prelive group of the same run (its visibility is prelive's to choose), in either order.
    const made = /(?:prelive: 1 \w+; production: 1 private|production: 1 private; prelive: 1 \w+)/.source;
    expect(run.summary).toMatch(
      new RegExp(`^2 group\\(s\\) \\(${made}\\); .*Full list: \`[^\`]*created-groups\\.json\``, 'm'),
    );
    expect(run.stdout).toMatch(
      new RegExp(`^Groups created \\(nothing can delete them\\): ${made}; listed in \\S*created-groups\\.json$`, 'm'),
    );
  });
});

// ---- what the credential proxy lets through, and writes down, in-process -----------------------------

/** Sends `body` as a create through the proxy, as the client does. */
async function create(proxy: Forwarder, body: unknown, raw = false) {
  const id = proxy.register({ auth: 'valid', test: 'self-test' });
  const headers = { 'content-type': 'application/json', [CALL_HEADER]: id };
  await fetch(`${proxy.origin}v1/rooms/groups`, {
    method: 'POST',
    headers,
    body: raw ? String(body) : JSON.stringify(body),
  });
}

for (const fault of ['wrong-types-coerced', 'limits-not-enforced', 'empty-name-accepted'] as const)
  test(`a lenient server (${fault}) gets, without the opt-in, only private test groups, all listed`, async ({
    referenceApi,
    credentialProxy,
  }) => {
    const api = await referenceApi({ fault });
    const proxy = await credentialProxy(
      'production',
      `${api.origin}${API_BASE_PATH}`,
      api.issueAccessToken(grant),
      production(api, false),
    );
    const data = new TestData(1, 'lenient', 'l');
    // Every 400 check of the suite, as it sends it.
    for (const c of negativeCases()) await create(proxy, c.body(data), c.raw);
    const made = api.groups();
    expect(made.length).toBeGreaterThan(0);
    // Private, and recognisable by its url (a name sent as a number may come back as "404").
    for (const g of made) expect([g.isPublic, g.url.startsWith(URL_PREFIX)], g.url).toEqual([false, true]);
    expect(
      readLedger(proxy.ledgerDir)
        .map((e) => e.url)
        .sort(),
    ).toEqual(made.map((g) => g.url).sort());
  });

test('with the opt-in, a group asked private that the server makes public is listed as public', async ({
  referenceApi,
  credentialProxy,
}) => {
  const api = await referenceApi({ fault: 'public-ignored' });
  const proxy = await credentialProxy(
    'production',
    `${api.origin}${API_BASE_PATH}`,
    api.issueAccessToken(grant),
    production(api, true),
  );
  await create(proxy, new TestData(1, 'leaky', 'l').validBody());
  expect(readLedger(proxy.ledgerDir).map((e) => [e.status, e.visibility, e.public, e.requestedPublic])).toEqual([
    ['created', 'public', true, false],
  ]);
});

/** Every request `api` receives from now on, as it received it (the credential proxy's headers included). */
function recorded(api: ServedApi): Received[] {
  const received: Received[] = [];
  api.server.prependListener('request', (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(
        ['content-type', 'x-auth-token', 'x-client-id'].flatMap((h) =>
          req.headers[h] ? [[h, String(req.headers[h])]] : [],
        ),
      );
      received.push({ method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks) });
    });
  });
  return received;
}
