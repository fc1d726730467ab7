import { tagOf as t } from '../fixtures/clauses';
import { leftNoTrace, rejectedWith } from '../fixtures/checks';
import { NAME_PREFIX } from '../fixtures/data';
import { LIMITS } from '../fixtures/schemas';
import { test } from '../fixtures/test';

const overLimit = [
  { field: 'name', make: (d: import('../fixtures/data').TestData) => d.validBody({ name: d.arabicText(LIMITS.name + 1, NAME_PREFIX) }), smoke: true },
  { field: 'url', make: (d: import('../fixtures/data').TestData) => d.validBody({ url: d.url(LIMITS.url + 1) }) },
  { field: 'description', make: (d: import('../fixtures/data').TestData) => d.validBody({ description: d.arabicText(LIMITS.description + 1) }) },
];

for (const { field, make, smoke } of overLimit) {
  const tag = [...(smoke ? ['@smoke'] : []), t('limits-over-rejected'), t('rejected-no-side-effect')];
  test(`a ${field} one character over its limit is refused with 400 and stores nothing`, { tag }, async ({ api, data }) => {
    const body = make(data);
    const answer = await api.create(body);
    rejectedWith('limits-over-rejected', 400, answer);
    leftNoTrace(body.url, await api.getByUrl(body.url), answer);
  });
}
