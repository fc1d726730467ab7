import { expect, test } from '@playwright/test';

for (let i = 0; i < 71; i++)
  test(`read ${i}`, async ({ request }) => {
    expect((await request.get(`v1/rooms/group/qa-floor-unknown-${i}`)).status()).toBe(404);
  });
