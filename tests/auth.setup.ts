import fs from 'node:fs';
import path from 'node:path';
import { test } from '../fixtures/test';
import { sessionFile } from '../fixtures/run';
import { AUTH_DIR, openSession } from '../fixtures/token';

// One token exchange per run and environment: refresh tokens rotate, so workers must not each
// exchange their own. The session file lives outside every report folder, owner-only.
test('obtain an access token for the run', { tag: '@smoke' }, async ({ env }) => {
  const session = await openSession(env, { persist: env.name !== 'local' });
  const file = sessionFile(AUTH_DIR, env.name);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(session), { mode: 0o600 });
  test.info().annotations.push({ type: 'caller', description: `user ${session.userId}, token via ${session.via}` });
});
