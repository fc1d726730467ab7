import { expect, request, test } from '@playwright/test';
import { z } from 'zod';

const Room = z.looseObject({
  id: z.number(),
  name: z.string(),
  description: z.string(),
  roomType: z.string(),
  isActive: z.boolean(),
  isVerified: z.boolean(),
  isPublic: z.boolean(),
  hideFollowJoinButton: z.boolean(),
  isOwner: z.boolean(),
  isAdmin: z.boolean(),
  ownerId: z.string(),
  postsCount: z.number(),
  membersCount: z.number(),
  avatarUrls: z.looseObject({ thumb: z.string().optional(), original: z.string().optional() }),
  url: z.string().optional(),
  subdomain: z.string().optional(),
  country: z.string().optional(),
  createdAt: z.string().optional(),
  isMember: z.boolean().optional(),
});
const Created = z.looseObject({ success: z.boolean(), data: Room });

const unique = () => `qa-naive-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const validGroup = () => {
  const url = unique();
  return { name: `QA naive ${url}`, url, description: 'Created by the naive bench suite', public: false };
};

test('a valid create answers 201 with the documented body', async ({ request }) => {
  const body = validGroup();
  const res = await request.post('v1/rooms/groups', { data: body });
  expect(res.status()).toBe(201);
  const parsed = Created.parse(await res.json());
  expect(parsed.data.name).toBe(body.name);
  expect(parsed.data.url).toBe(body.url);
});

test('the same url again is refused with 400', async ({ request }) => {
  const body = validGroup();
  expect((await request.post('v1/rooms/groups', { data: body })).status()).toBe(201);
  const again = await request.post('v1/rooms/groups', { data: { ...body, name: `${body.name} again` } });
  expect(again.status()).toBe(400);
});

test('a name of 51 characters is refused with 400', async ({ request }) => {
  const res = await request.post('v1/rooms/groups', { data: { ...validGroup(), name: 'n'.repeat(51) } });
  expect(res.status()).toBe(400);
});

test('a url of 51 characters is refused with 400', async ({ request }) => {
  const res = await request.post('v1/rooms/groups', { data: { ...validGroup(), url: unique().padEnd(51, 'u') } });
  expect(res.status()).toBe(400);
});

test('a description of 201 characters is refused with 400', async ({ request }) => {
  const res = await request.post('v1/rooms/groups', { data: { ...validGroup(), description: 'd'.repeat(201) } });
  expect(res.status()).toBe(400);
});

test('a create without a token is refused with 401', async ({ baseURL }) => {
  const anonymous = await request.newContext({
    baseURL,
    extraHTTPHeaders: { 'x-client-id': process.env.PRELIVE_CLIENT_ID ?? '' },
  });
  const res = await anonymous.post('v1/rooms/groups', { data: validGroup() });
  expect(res.status()).toBe(401);
  await anonymous.dispose();
});
