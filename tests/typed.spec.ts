import {
  echoesRequest,
  onlyOneOfConcurrentCreatesWins,
  readsOf,
  releaseSentence,
  serverOwnedFieldsIgnored,
  tagOf as t,
  test,
} from '../fixtures/suite';

// The typed group: texts as people type them, the other flag values, server-owned fields in the
// body, and three creates for its url released together (fixtures/harness/groups.ts, proxy/race.ts).

test('names and descriptions as people type them come back canonically equivalent', {
  tag: [t('create-text-intact')],
}, async ({ madeGroup }) => {
  const typed = await madeGroup('typed');
  echoesRequest(typed.sent, typed.room, typed.exchange, 'create-text-intact', ['name', 'description']);
});

test('the other value of each flag is kept too', { tag: [t('create-echo')] }, async ({ madeGroup }) => {
  const typed = await madeGroup('typed');
  echoesRequest(typed.sent, typed.room, typed.exchange, 'create-echo', ['url', 'public', 'hideFollowJoinButton']);
});

test('of three creates for one url landing together, exactly one succeeds and the url resolves to it', {
  tag: [t('duplicate-url-concurrent')],
}, async ({ madeGroup, api }) => {
  const typed = await madeGroup('typed');
  const round = typed.round ?? [typed.exchange];
  if (typed.release) test.info().annotations.push({ type: 'race', description: releaseSentence(typed.release) });
  test.skip(
    round.some((e) => e.status === 429),
    'not verified: rate-limited during the race (a 429 beside a success cannot be sent again without a second group)',
  );
  onlyOneOfConcurrentCreatesWins(round, await api.getByUrl(String(typed.sent.url)));
});

test('a create cannot set what the server owns: owner, verification, activity, type, counts, membership, admin', {
  tag: [t('server-owned-fields')],
}, async ({ madeGroup, caller }) => {
  const typed = await madeGroup('typed');
  const { owned, room, exchange } = typed;
  serverOwnedFieldsIgnored({
    sent: owned!.sent,
    refused: owned!.refused,
    room,
    reference: owned!.reference,
    caller,
    ex: exchange,
  });
});

test('reading the typed group by id returns what its create answered', { tag: [t('read-by-id')] }, async ({
  api,
  madeGroup,
}) => {
  const typed = await madeGroup('typed');
  await api.everyCase(
    readsOf(api, typed).filter((c) => c.clause === 'read-by-id'),
    (c) => c.check(),
  );
});
