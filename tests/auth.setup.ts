import { test } from '../fixtures/test';
import { startSession } from '../fixtures/token';

// One token exchange per run and environment: refresh tokens rotate, so workers must not each
// exchange their own. The session file lives outside every report folder, owner-only.
test('obtain an access token for the run', { tag: '@smoke' }, async ({ env }) => {
  const session = await startSession(env);
  test.info().annotations.push({ type: 'caller', description: `user ${session.userId}, token via ${session.via}` });
});
