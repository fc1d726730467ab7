import {
  echoesRequest,
  onlyOneOfConcurrentCreatesWins,
  serverOwnedFieldsIgnored,
  tagOf as t,
  test,
} from '../fixtures/suite';

// The typed group: texts as people type them, the other flag values, server-owned fields in the
// body, and three creates for its url sent at once (fixtures/harness/groups.ts).

test('names and descriptions as people type them come back canonically equivalent', {
  tag: [t('create-text-intact')],
}, async ({ typed }) => {
  echoesRequest(typed.sent, typed.room, typed.exchange, 'create-text-intact', ['name', 'description']);
});

test('the other value of each flag is kept too', { tag: [t('create-echo')] }, async ({ typed }) => {
  echoesRequest(typed.sent, typed.room, typed.exchange, 'create-echo', ['url', 'public', 'hideFollowJoinButton']);
});

test('of three creates for one url sent at once, exactly one succeeds and the url resolves to it', {
  tag: [t('duplicate-url-concurrent')],
}, async ({ typed, api }) => {
  onlyOneOfConcurrentCreatesWins(typed.round ?? [typed.exchange], await api.getByUrl(String(typed.sent.url)));
});

test('a create cannot set what the server owns: owner, verification, activity, type, counts, membership, admin', {
  tag: [t('server-owned-fields')],
}, async ({ typed, caller }) => {
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
