import {
  answersCreated,
  charCount,
  echoesRequest,
  expect,
  LIMITS,
  matchesCreatedSchema,
  ownedBy,
  readsOf,
  rejectedWith,
  saysSuccess,
  tagOf as t,
  test,
  unchanged,
} from '../fixtures/suite';

// The go-live group: every field at its limit. Made once per run, by whichever of these asks first.

test('a valid create answers 201 with a JSON body', { tag: ['@smoke', t('create-201')] }, async ({ madeGroup }) => {
  const atLimits = await madeGroup('limits');
  answersCreated(atLimits.exchange);
});

test('the 201 body matches the documented schema', { tag: ['@smoke', t('create-schema')] }, async ({ madeGroup }) => {
  const atLimits = await madeGroup('limits');
  matchesCreatedSchema(atLimits.exchange);
});

test('the 201 body says success: true', { tag: ['@smoke', t('create-success')] }, async ({ madeGroup }) => {
  const atLimits = await madeGroup('limits');
  saysSuccess(atLimits.exchange);
});

test('every field at its length limit, in Arabic, is accepted and returned intact', {
  tag: ['@smoke', t('limits-max-accepted')],
}, async ({ madeGroup }) => {
  const atLimits = await madeGroup('limits');
  const { sent, room, exchange } = atLimits;
  expect([sent.name, sent.url, sent.description].map((s) => charCount(String(s)))).toEqual([
    LIMITS.name,
    LIMITS.url,
    LIMITS.description,
  ]);
  echoesRequest(sent, room, exchange, 'limits-max-accepted', ['name', 'url', 'description']);
});

test('the group is what was asked for', { tag: ['@smoke', t('create-echo')] }, async ({ madeGroup }) => {
  const atLimits = await madeGroup('limits');
  echoesRequest(atLimits.sent, atLimits.room, atLimits.exchange);
});

test('the creator becomes the owner', { tag: ['@smoke', t('create-owner')] }, async ({ madeGroup, caller }) => {
  const atLimits = await madeGroup('limits');
  ownedBy(atLimits.room, caller, atLimits.exchange);
});

test('reading the group by id and by url returns what the create answered', {
  tag: ['@smoke', t('read-by-id'), t('read-by-url')],
}, async ({ madeGroup, api }) => {
  const atLimits = await madeGroup('limits');
  await api.everyCase(readsOf(api, atLimits), (c) => c.check());
});

test('a URL already taken is refused with 400 and the first group is unchanged', { tag: [t('duplicate-url')] }, async ({
  madeGroup,
  api,
  data,
}) => {
  const atLimits = await madeGroup('limits');
  const url = String(atLimits.sent.url);
  const attempt = await api.create(data.validBody({ url }));
  rejectedWith('duplicate-url', 400, attempt);
  unchanged(atLimits.room, await api.getByUrl(url), attempt);
});
