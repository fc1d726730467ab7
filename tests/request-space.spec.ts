import {
  coveringGroup,
  echoesRequest,
  matchesCreatedSchema,
  type PositiveCase,
  positiveCases,
  readsOf,
  tagOf as t,
  test,
} from '../fixtures/suite';

const omitted = (c: PositiveCase) => c === 'minimal body' || c.endsWith(': omitted');
const given = positiveCases().filter((c) => !omitted(c));
const leftOut = positiveCases().filter(omitted);

// Every documented way of making a group (each optional field left out and given, each flag with both values, the
// minimal body), generated from the request schema, a step each; each rides on one of the run's groups
// (fixtures/harness/groups.ts), so the cases cost no group of their own.
test(`each optional field given comes back as sent: ${given.join(', ')}`, { tag: t('create-echo') }, async ({
  api,
  env,
  madeGroup,
}) => {
  await api.everyCase(
    given.map((title) => ({ title })),
    async ({ title }) => {
      const group = await madeGroup(coveringGroup(title, env));
      echoesRequest(group.sent, group.room, group.exchange, 'create-echo', [title.split(': ')[0] as 'public']);
    },
  );
});

test(`a create succeeds with optional fields left out: ${leftOut.join(', ')}`, {
  tag: t('create-optional-omitted'),
}, async ({ api, env, madeGroup }) => {
  // Its create answered 201 with a group (the fixture's gate); the defaults of what is left out are undocumented.
  await api.everyCase(
    leftOut.map((title) => ({ title })),
    async ({ title }) => void (await madeGroup(coveringGroup(title, env))),
  );
});

test('a group created without description still matches the schema', {
  tag: [t('create-without-description')],
}, async ({ madeGroup }) => {
  const minimal = await madeGroup('minimal');
  matchesCreatedSchema(minimal.exchange, 'create-without-description');
});

test('the minimal group is what was asked for: name and url', { tag: [t('create-echo')] }, async ({ madeGroup }) => {
  const minimal = await madeGroup('minimal');
  echoesRequest(minimal.sent, minimal.room, minimal.exchange);
});

// The typed group is read back in typed.spec.ts, the limits group in create-group.spec.ts (the smoke run's).
test('reading the minimal group by id and by url returns what its create answered', {
  tag: [t('read-by-id'), t('read-by-url')],
}, async ({ api, madeGroup }) => {
  const minimal = await madeGroup('minimal');
  await api.everyCase(readsOf(api, minimal), (c) => c.check());
});
