import { type AuthMode, type ClauseId, refused, rejectedWith, tagOf as t, test } from '../fixtures/suite';

// Valid, private bodies: only the credentials are wrong, so only authentication can refuse them.
const cases: { auth: AuthMode; title: string; clause: ClauseId; status?: 401; smoke?: boolean }[] = [
  { auth: 'none', title: 'without an access token', clause: 'auth-missing', status: 401, smoke: true },
  { auth: 'garbage', title: 'with a token that is not a JWT', clause: 'auth-invalid', status: 401 },
  { auth: 'tampered', title: "with the caller's token, its signature altered", clause: 'auth-invalid', status: 401 },
  { auth: 'forged', title: "with the caller's claims signed by a foreign key", clause: 'auth-invalid', status: 401 },
  { auth: 'no-client-id', title: 'without x-client-id', clause: 'auth-client-id' },
];

for (const c of cases) {
  const tag = [...(c.smoke ? ['@smoke'] : []), t(c.clause), t('rejected-no-side-effect')];
  test(`a create ${c.title} is refused${c.status ? ` with ${c.status}` : ''} and stores nothing`, { tag }, async ({
    api,
    data,
    noTrace,
  }) => {
    const body = data.validBody();
    const answer = await api.create(body, { auth: c.auth });
    if (c.status) rejectedWith(c.clause, c.status, answer);
    else refused(c.clause, answer);
    await noTrace(body.url, answer);
  });
}
