import { echoesRequest, matchesCreatedSchema, readsBack } from '../fixtures/checks';
import { tagOf as t } from '../fixtures/clauses';
import { groupFor, groupKeys, plans } from '../fixtures/groups';
import { positiveCases } from '../fixtures/request-space';
import { test } from '../fixtures/test';

// Every documented way of making a group (each optional field left out and given, each flag with
// both values, the minimal body), generated from the request schema; each rides on one of the
// run's groups (fixtures/groups.ts), so the cases cost no group of their own.
for (const c of positiveCases()) {
  const [field, state] = c.split(': ');
  const omitted = c === 'minimal body' || state === 'omitted';
  const tag = t(omitted ? 'create-optional-omitted' : 'create-echo');
  test(`${c}: ${omitted ? 'the create succeeds' : 'comes back as sent'}`, { tag }, async ({ env, madeGroup }) => {
    const covering = groupFor(c, env);
    if ('unavailable' in covering) return test.skip(true, `in ${env.name}: ${covering.unavailable}`);
    const group = await madeGroup(covering.key);
    // Left out: its create answered 201 with a group (the fixture's gate); defaults are undocumented.
    if (!omitted) echoesRequest(group.sent, group.room, group.exchange, 'create-echo', [field as 'public']);
  });
}

test('a group created without description still matches the schema', {
  tag: [t('create-without-description')],
}, async ({ minimal }) => {
  matchesCreatedSchema(minimal.exchange, 'create-without-description');
});

test('the minimal group is what was asked for: name and url', { tag: [t('create-echo')] }, async ({ minimal }) => {
  echoesRequest(minimal.sent, minimal.room, minimal.exchange);
});

for (const key of groupKeys)
  test(`reading ${plans[key].what} by id returns what its create answered`, { tag: [t('read-by-id')] }, async ({
    api,
    madeGroup,
  }) => {
    const group = await madeGroup(key);
    readsBack('read-by-id', group.room, await api.getById(group.room.id), group.exchange);
  });

test('reading the minimal group by url returns what its create answered', { tag: [t('read-by-url')] }, async ({
  api,
  minimal,
}) => {
  readsBack('read-by-url', minimal.room, await api.getByUrl(String(minimal.sent.url)), minimal.exchange);
});
