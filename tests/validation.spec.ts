import { leftNoTrace, rejectedWith } from '../fixtures/checks';
import { tagOf as t } from '../fixtures/clauses';
import { negativeCases, urlTried } from '../fixtures/request-space';
import { test } from '../fixtures/test';

// Every class of invalid value of every field, and bodies that are not objects, generated from the
// request schema; each refusal is followed by the proof that nothing was stored under its url.
for (const c of negativeCases()) {
  const tag = [...(c.title.startsWith('name: 51') ? ['@smoke'] : []), t(c.clause), t('rejected-no-side-effect')];
  test(`a create with ${c.title} is refused with 400 and stores nothing`, { tag }, async ({ api, data }) => {
    const body = c.body(data);
    const answer = await api.create(body, { raw: c.raw });
    rejectedWith(c.clause, 400, answer);
    const url = urlTried(body);
    if (url) leftNoTrace(url, await api.getByUrl(url), answer);
    else
      test.info().annotations.push({
        type: 'no-trace-check',
        description: 'the body carries no url string to look up, so that nothing was stored could not be shown',
      });
  });
}
