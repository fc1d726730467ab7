import {
  coveringGroup,
  echoesRequest,
  groupKeys,
  matchesCreatedSchema,
  type PositiveCase,
  plans,
  positiveCases,
  readsBack,
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

// The other groups of the run read back, by id and by url, in flight together (the limits group's reads are the smoke
// run's, in create-group.spec.ts; the typed group's url is read after its race too).
const reads = groupKeys
  .filter((key) => key !== 'limits')
  .flatMap((key) =>
    (['read-by-id', 'read-by-url'] as const).map((clause) => ({
      title: `${plans[key].what}, ${clause === 'read-by-id' ? 'by id' : 'by url'}`,
      key,
      clause,
    })),
  );
test('reading the other groups of the run by id and by url returns what their creates answered', {
  tag: [t('read-by-id'), t('read-by-url')],
}, async ({ api, madeGroup }) => {
  await api.everyCase(reads, async ({ key, clause }) => {
    const { room, sent, exchange } = await madeGroup(key);
    const read = clause === 'read-by-id' ? await api.getById(room.id) : await api.getByUrl(String(sent.url));
    readsBack(clause, room, read, exchange);
  });
});
