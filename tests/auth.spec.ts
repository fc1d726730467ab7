import { type AuthMode, type ClauseId, refused, rejectedWith, tagOf as t, test } from '../fixtures/suite';

// Valid, private bodies: only the credentials are wrong, so only authentication can refuse them.
type AuthCase = { auth: AuthMode; title: string; clause: ClauseId; status?: 401 };
const missing: AuthCase = { auth: 'none', title: 'without an access token', clause: 'auth-missing', status: 401 };
const wrong: AuthCase[] = [
  { auth: 'garbage', title: 'a token that is not a JWT', clause: 'auth-invalid', status: 401 },
  { auth: 'tampered', title: "the caller's token, its signature altered", clause: 'auth-invalid', status: 401 },
  { auth: 'forged', title: "the caller's claims signed by a foreign key", clause: 'auth-invalid', status: 401 },
  { auth: 'no-client-id', title: 'no x-client-id', clause: 'auth-client-id' },
];
// The smoke run's refusal alone; the other credentials together, in flight at once, a step each.
const tests = [
  {
    title: 'a create without an access token is refused with 401 and stores nothing',
    smoke: true,
    cases: [missing],
  },
  { title: `a create with ${wrong.map((c) => c.title).join(', or ')} is refused and stores nothing`, cases: wrong },
];

for (const { title, smoke, cases } of tests) {
  const tag = [...(smoke ? ['@smoke'] : []), ...new Set(cases.map((c) => t(c.clause))), t('rejected-no-side-effect')];
  test(title, { tag }, async ({ api, data, noTrace }) => {
    await api.everyCase(cases, async (c) => {
      const body = data.validBody();
      const answer = await api.create(body, { auth: c.auth });
      if (c.status) rejectedWith(c.clause, c.status, answer);
      else refused(c.clause, answer);
      await noTrace(body.url, answer);
    });
  });
}
