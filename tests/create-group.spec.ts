import { tagOf as t } from '../fixtures/clauses';
import {
  createdData, echoesRequest, matchesCreatedSchema, ownedBy, readsBack, rejectedWith, saysSuccess, unchanged, answersCreated,
} from '../fixtures/checks';
import { LIMITS, charCount } from '../fixtures/schemas';
import { test } from '../fixtures/test';

// These checks share the run's groups (at most two are created), so they stay in one worker, in order.
test.describe.configure({ mode: 'default' });

test('a valid create answers 201 with a JSON body', { tag: ['@smoke', t('create-201')] }, async ({ primary }) => {
  answersCreated(primary.exchange);
});

test('the 201 body matches the documented schema', { tag: ['@smoke', t('create-schema')] }, async ({ primary }) => {
  matchesCreatedSchema(primary.exchange);
});

test('the 201 body says success: true', { tag: ['@smoke', t('create-success')] }, async ({ primary }) => {
  createdData(primary.exchange, 'create-success');
  saysSuccess(primary.exchange);
});

test('every field at its length limit, in Arabic, is accepted and returned intact', { tag: ['@smoke', t('limits-max-accepted')] }, async ({ primary }) => {
  const { sent, exchange } = primary;
  const room = createdData(exchange, 'limits-max-accepted', `the create with name ${LIMITS.name}, url ${LIMITS.url} and description ${LIMITS.description} characters`);
  test.expect([charCount(sent.name), charCount(sent.url), charCount(sent.description!)]).toEqual([LIMITS.name, LIMITS.url, LIMITS.description]);
  echoesRequest(sent, room, exchange, 'limits-max-accepted');
});

test('the group is what was asked for', { tag: ['@smoke', t('create-echo')] }, async ({ primary }) => {
  echoesRequest(primary.sent, createdData(primary.exchange, 'create-echo'), primary.exchange);
});

test('the other value of each flag is kept too', { tag: [t('create-echo')] }, async ({ secondary }) => {
  echoesRequest(secondary.sent, createdData(secondary.exchange, 'create-echo'), secondary.exchange);
});

test('a group created without description still matches the schema', { tag: [t('create-without-description')] }, async ({ secondary }) => {
  createdData(secondary.exchange, 'create-without-description', 'the create without description');
  matchesCreatedSchema(secondary.exchange, 'create-without-description');
});

test('the creator becomes the owner', { tag: ['@smoke', t('create-owner')] }, async ({ primary, caller }) => {
  ownedBy(createdData(primary.exchange, 'create-owner'), caller, primary.exchange);
});

test('reading the group by id returns what the create answered', { tag: ['@smoke', t('read-by-id')] }, async ({ primary, api }) => {
  const room = createdData(primary.exchange, 'read-by-id');
  readsBack('read-by-id', room, await api.getById(room.id), primary.exchange);
});

// The other flag values, read back too: a server that echoes the flags but stores its defaults
// would pass on the first group alone whenever its defaults are that group's flags.
test('reading the second group by id returns what its create answered', { tag: [t('read-by-id')] }, async ({ secondary, api }) => {
  const room = createdData(secondary.exchange, 'read-by-id');
  readsBack('read-by-id', room, await api.getById(room.id), secondary.exchange);
});

test('reading the group by url returns what the create answered', { tag: ['@smoke', t('read-by-url')] }, async ({ primary, api }) => {
  const room = createdData(primary.exchange, 'read-by-url');
  readsBack('read-by-url', room, await api.getByUrl(primary.sent.url), primary.exchange);
});

test('a URL already taken is refused with 400 and the first group is unchanged', { tag: [t('duplicate-url')] }, async ({ primary, api, data }) => {
  const first = createdData(primary.exchange, 'duplicate-url');
  const attempt = await api.create(data.validBody({ url: primary.sent.url }));
  rejectedWith('duplicate-url', 400, attempt);
  unchanged(first, await api.getByUrl(primary.sent.url), attempt);
});
