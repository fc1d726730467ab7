/**
 * What a run leaves in production, where nothing can be deleted: without PRODUCTION_ALLOW_WRITES
 * no group, not even on a server lenient enough to accept the 400 checks' bodies beyond private
 * test groups; with it, 2 private, recognisable groups per full run; every group in the ledger,
 * as the API holds it. Production is a reference API served in-process here.
 */
import { NAME_PREFIX, URL_PREFIX } from '../fixtures/data';
import type { FaultName } from '../reference-api/faults';
import { test as base, expect, pointAt, type ServedApi, type SuiteRun } from './fixtures';

const grant = { sub: 'user-production-qa', clientId: 'prod-client', scope: 'room.create room.read' };
const production = (api: ServedApi, writes: boolean) => ({
  ...pointAt('PRODUCTION', api.origin, { clientId: grant.clientId, accessToken: api.issueAccessToken(grant) }),
  PRODUCTION_ALLOW_WRITES: String(writes),
});

type Production = { run: SuiteRun; api: ServedApi };
const test = base.extend<{}, { readOnly: Production; withWrites: Production }>({
  readOnly: [
    async ({ shareRun, shareReferenceApi }, use) => {
      const api = await shareReferenceApi();
      await use({ run: await shareRun('read-only', ['--project=production'], production(api, false)), api });
    },
    { scope: 'worker' },
  ],
  withWrites: [
    async ({ shareRun, shareReferenceApi }, use) => {
      const api = await shareReferenceApi();
      await use({ run: await shareRun('with-writes', ['--project=production'], production(api, true)), api });
    },
    { scope: 'worker' },
  ],
});

test.describe('without PRODUCTION_ALLOW_WRITES', () => {
  test.describe.configure({ mode: 'default' });

  test('a full run creates no group, by the API and by the ledger', async ({ readOnly: { run, api } }) => {
    expect(run.code, run.tail()).toBe(0);
    expect(api.stats.groupsCreated).toBe(0);
    expect(run.ledger).toEqual([]);
  });

  test('every test that could make a group is skipped, saying why', async ({ readOnly: { run } }) => {
    const reasons = run.testsWith('skipped').map((t) => t.annotations.find((a) => a.type === 'skip')?.description ?? '');
    const needsAGroup = /^creates a group: production writes are off \(set PRODUCTION_ALLOW_WRITES=true to opt in\)$/;
    const couldMakeOne = /^not sent \(write guard\): |^in production: production groups are .*public: false/;
    expect(reasons.filter((r) => needsAGroup.test(r)).length).toBeGreaterThanOrEqual(15);
    expect(reasons.filter((r) => !needsAGroup.test(r) && !couldMakeOne.test(r))).toEqual([]);
  });

  test('the 400 and 401 checks still run, and pass', async ({ readOnly: { run } }) => {
    const passed = run.testsWith('expected').map((t) => t.title);
    expect(passed.filter((t) => t.includes('refused with 400')).length).toBeGreaterThanOrEqual(20);
    expect(passed.filter((t) => t.includes('refused with 401'))).toHaveLength(4);
    expect(run.testsWith('unexpected')).toEqual([]);
  });

  test('its GO names the clauses it could not verify', async ({ readOnly: { run } }) => {
    const unverified = /production: \*\*GO\*\* .*, but \d+ clause\(s\) not verified \(all their tests skipped\): .*create-201.*read-by-url/;
    expect(run.summary).toMatch(new RegExp(`^- ${unverified.source}`, 'm'));
    expect(run.stdout).toMatch(/production: GO, but \d+ clause\(s\) not verified/);
  });

  const lenient: [FaultName, string][] = [
    ['wrong-types-coerced', 'url: a list|public: a number'],
    ['limits-not-enforced', 'name: 51 characters'],
    ['empty-name-accepted', 'name: empty'],
  ];
  for (const [fault, grep] of lenient)
    test(`a server that accepts what it must refuse (${fault}) gets only private test groups, all listed`, async ({ runSuite, referenceApi }) => {
      const api = await referenceApi({ fault });
      const run = await runSuite(['--project=production', '--grep', grep], production(api, false));
      expect(run.code, 'the fault is caught').toBe(1);
      const made = api.groups();
      expect(made.length).toBeGreaterThan(0);
      for (const g of made) expect([g.isPublic, g.url.startsWith(URL_PREFIX), !g.name || g.name.startsWith(NAME_PREFIX)]).toEqual([false, true, true]);
      expect(run.ledger.map((e) => e.url).sort()).toEqual(made.map((g) => g.url).sort());
    });
});

test.describe('with PRODUCTION_ALLOW_WRITES', () => {
  test.describe.configure({ mode: 'default' });

  test('a full run creates 2 groups, private and recognisable as the API holds them', async ({ withWrites: { run, api } }) => {
    expect(run.code, run.tail()).toBe(0);
    const made = api.groups();
    expect(made).toHaveLength(2);
    for (const g of made) expect([g.isPublic, g.url.startsWith(URL_PREFIX), g.name.startsWith(NAME_PREFIX)]).toEqual([false, true, true]);
  });

  test('the ledger lists each group with its visibility, test and time', async ({ withWrites: { run, api } }) => {
    expect(run.ledger.map((e) => e.url).sort()).toEqual(api.groups().map((g) => g.url).sort());
    for (const e of run.ledger) {
      expect(e).toMatchObject({ environment: 'production', status: 'created', public: false, visibility: 'private', requestedPublic: false });
      expect(e.test).toBeTruthy();
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
  });

  test('a server that makes private groups public fails the run, and the ledger says they are public', async ({ runSuite, referenceApi }) => {
    const api = await referenceApi({ fault: 'public-ignored' });
    const run = await runSuite(['--project=production', '--grep', 'the group is what was asked for'], production(api, true));
    expect(run.code).toBe(1);
    expect(run.testsWith('unexpected').map((t) => t.tags)).toEqual([expect.arrayContaining(['@create-echo'])]);
    expect(run.ledger.map((e) => [e.status, e.visibility, e.requestedPublic])).toEqual([['created', 'public', false]]);
  });
});
