import { rejectedWith } from '../fixtures/contract/checks';
import { tagOf as t } from '../fixtures/contract/clauses';
import { negativeGroups, urlTried } from '../fixtures/contract/request-space';
import { test } from '../fixtures/harness/test';

// Every class of invalid value of every field, and bodies that are not objects, generated from the
// request schema, one test per field and clause; each refusal is followed by the proof that nothing
// was stored under its url.
for (const g of negativeGroups()) {
  const tag = [...(g.title.startsWith('name: 51') ? ['@smoke'] : []), t(g.clause), t('rejected-no-side-effect')];
  test(`a create with ${g.title} is refused with 400 and stores nothing`, { tag }, async ({ api, data, noTrace }) => {
    await api.everyCase(g.cases, async (c) => {
      const body = c.body(data);
      const answer = await api.create(body, { raw: c.raw });
      rejectedWith(c.clause, 400, answer);
      const url = urlTried(body);
      if (url) await noTrace(url, answer);
      else
        test.info().annotations.push({
          type: 'no-trace-check',
          description: `${c.title}: the body carries no url string to look up, so that nothing was stored could not be shown`,
        });
    });
  });
}
