import { tagOf as t, type ClauseId } from '../fixtures/clauses';
import { leftNoTrace, rejectedWith } from '../fixtures/checks';
import type { TestData } from '../fixtures/data';
import { test } from '../fixtures/test';

type Case = { title: string; clause: ClauseId; body: (d: TestData) => unknown; raw?: boolean };

const without = (key: string) => (d: TestData) => {
  const body: Record<string, unknown> = d.validBody();
  delete body[key];
  return body;
};

const cases: Case[] = [
  { title: 'a missing name', clause: 'validation-required', body: without('name') },
  { title: 'an empty name', clause: 'validation-required', body: (d) => d.validBody({ name: '' }) },
  { title: 'a missing url', clause: 'validation-required', body: without('url') },
  { title: 'an empty url', clause: 'validation-required', body: (d) => d.validBody({ url: '' }) },
  { title: 'a name that is a number', clause: 'validation-types', body: (d) => ({ ...d.validBody(), name: 12345 }) },
  { title: 'a url that is a list', clause: 'validation-types', body: (d) => ({ ...d.validBody(), url: [d.url()] }) },
  { title: 'a description that is an object', clause: 'validation-types', body: (d) => ({ ...d.validBody(), description: { text: 'x' } }) },
  // Wrong types a lenient server would coerce into a private group with a test url: safe to send to
  // production (the write guard insists, auth-proxy.ts).
  { title: 'public given as the number 0', clause: 'validation-types', body: (d) => ({ ...d.validBody(), public: 0 }) },
  { title: 'hideFollowJoinButton given as 1', clause: 'validation-types', body: (d) => ({ ...d.validBody(), hideFollowJoinButton: 1 }) },
  { title: 'a JSON array instead of an object', clause: 'validation-types', body: (d) => [d.validBody()] },
  { title: 'a body that is not JSON', clause: 'validation-malformed', raw: true, body: (d) => `{"name": "${d.validBody().name}", "url": ` },
];

/** The url a lenient server could have stored from a refused body: also from an array body, or a url given as a list. */
function urlTried(body: unknown): string | undefined {
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const url = first((first(body) as { url?: unknown } | undefined)?.url);
  return typeof url === 'string' && url ? url : undefined;
}

for (const c of cases) {
  test(`${c.title} is refused with 400`, { tag: [t(c.clause), t('rejected-no-side-effect')] }, async ({ api, data }) => {
    const body = c.body(data);
    const answer = await api.create(body, { raw: c.raw });
    rejectedWith(c.clause, 400, answer);
    const url = urlTried(body);
    if (url) leftNoTrace(url, await api.getByUrl(url), answer);
  });
}
