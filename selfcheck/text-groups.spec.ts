/**
 * What the sharper probes cost in groups, nothing of which can be deleted: on the most tolerant
 * faithful server (it accepts every text bundle and refuses the typed group's undocumented fields,
 * so that group's round goes twice), a full prelive run makes at most 6 groups, a smoke run 1, and
 * production without the opt-in none. One child run for prelive and production, one for smoke.
 */
import { expect, pointAt, type ServedApi, test } from './fixtures';

const grant = { sub: 'user-tolerant-qa', clientId: 'tolerant-client', scope: 'room' };
const at = (prefix: string, api: ServedApi) =>
  pointAt(prefix, api.origin, { clientId: grant.clientId, accessToken: api.issueAccessToken(grant) });

test('on the most tolerant faithful server: at most 6 groups a full prelive run, 1 a smoke run, 0 in production without the opt-in', async ({
  shareRun,
  shareReferenceApi,
}) => {
  const [prelive, production, smoke] = await Promise.all(
    [0, 1, 2].map(() => shareReferenceApi({ variant: 'most-tolerant' })),
  );
  const [full, smokeRun] = await Promise.all([
    shareRun('tolerant-full', ['--project=prelive', '--project=production'], {
      ...at('PRELIVE', prelive),
      ...at('PRODUCTION', production),
      PRODUCTION_ALLOW_WRITES: 'false',
    }),
    shareRun('tolerant-smoke', ['--project=prelive', '--grep', '@smoke'], at('PRELIVE', smoke)),
  ]);
  expect(full.code, full.tail()).toBe(0);
  expect(smokeRun.code, smokeRun.tail()).toBe(0);
  const made = { prelive: prelive.stats.groupsCreated, smoke: smoke.stats.groupsCreated };
  test.info().annotations.push({
    type: 'groups',
    description: `the most tolerant faithful server: ${made.prelive} groups in a full prelive run, ${made.smoke} in a smoke run`,
  });
  expect(made.prelive).toBeLessThanOrEqual(6);
  // Both text bundles were accepted, so the cap was really tested.
  const bundles = full.tests.filter((t) => t.tags.includes('@text-no-server-error') && t.projectName === 'prelive');
  expect(bundles.map((t) => t.status)).toEqual(['expected', 'expected']);
  expect(made.smoke).toBe(1);
  expect(production.stats.groupsCreated).toBe(0);
});
