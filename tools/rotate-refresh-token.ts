/**
 * tsx tools/rotate-refresh-token.ts <prelive|production> --repo <owner/name> [--github-environment <name>]
 *
 * The CI step that keeps a user session alive across scheduled runs (docs/ci-tokens.md). Refresh
 * tokens rotate: each can be exchanged once. This exchanges `<ENV>_REFRESH_TOKEN` at
 * `{<ENV>_OAUTH_BASE_URL}/oauth2/token`, masks both new tokens (`::add-mask::`) before anything else
 * is printed, and writes the rotated refresh token back at once as the secret `<ENV>_REFRESH_TOKEN`
 * (`gh secret set`, the value on stdin, never in argv; `GH_TOKEN` must be allowed to write secrets).
 * The access token reaches the later steps as `<ENV>_ACCESS_TOKEN` through `$GITHUB_ENV`, so the
 * suite does not exchange again. A given `<ENV>_ACCESS_TOKEN` (a one-off run) is passed on as it is.
 * Before spending the token it checks that `gh` can reach the secrets: a failed write-back after the
 * exchange would leave a spent token in the secret. Exit 1, with a `::error::` naming cause and fix.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { insecureOauthUrl, oauthClient, refreshGrant } from '../fixtures/config/oauth';
import { viaProxy } from '../fixtures/config/outbound';
import { inheritedEnvironment, readClientSettings, variableName } from '../fixtures/config/settings';
import { type CommandSpec, parseCommandLine, UsageError } from '../fixtures/contract/cli';

const EXCHANGE_TIMEOUT_MS = 15_000;
const Args = z.object({
  environment: z.enum(['prelive', 'production'], { error: 'the first argument is prelive or production' }),
  repo: z.string({ error: '--repo <owner/name> is required' }).regex(/^[\w.-]+\/[\w.-]+$/, '--repo is owner/name'),
  githubEnvironment: z.string().trim().min(1).optional(),
});

const spec: CommandSpec = {
  usage: 'tsx tools/rotate-refresh-token.ts <prelive|production> --repo <owner/name> [--github-environment <name>]',
  about:
    "A CI step: exchanges <ENV>_REFRESH_TOKEN once, writes the rotated one back as the repository's secret\n" +
    '(gh secret set) and hands the access token to the later steps through $GITHUB_ENV (docs/ci-tokens.md).',
  options: {
    repo: { type: 'string', help: '<owner/name> whose secret holds the refresh token' },
    'github-environment': { type: 'string', help: '<name> the GitHub environment holding the secret, if any' },
  },
  positionals: [{ name: 'the environment', choices: ['prelive', 'production'] }],
};

export type RotationIo = {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
};

class RotationError extends Error {}

/** Runs `gh` (found on PATH) with these arguments and this stdin; only its exit code and stderr are kept. */
const runGh = (env: NodeJS.ProcessEnv) => (args: string[], input?: string) => {
  const r = spawnSync('gh', args, { env, input: input ?? '', encoding: 'utf8', timeout: 60_000 });
  return { status: r.error ? null : r.status, stderr: r.error ? r.error.message : (r.stderr ?? '') };
};

/** The exit code; every line goes through `io.out` (GitHub reads workflow commands on stdout). */
export async function rotateRefreshToken(argv: string[], io: RotationIo): Promise<number> {
  try {
    await rotate(argv, io);
    return 0;
  } catch (e) {
    if (!(e instanceof RotationError)) throw e;
    io.out(`::error::${e.message}`);
    return 1;
  }
}

async function rotate(argv: string[], io: RotationIo): Promise<void> {
  let read: ReturnType<typeof parseCommandLine>;
  try {
    read = parseCommandLine(spec, argv);
  } catch (e) {
    if (e instanceof UsageError) throw new RotationError(`rotate-refresh-token: ${e.message}`);
    throw e;
  }
  if ('help' in read) {
    for (const line of read.help.trimEnd().split('\n')) io.out(line);
    return;
  }
  const { values, positionals } = read;
  const parsed = Args.safeParse({
    environment: positionals[0],
    repo: values.repo,
    githubEnvironment: values['github-environment'] || undefined,
  });
  if (!parsed.success) throw new RotationError(`rotate-refresh-token: ${parsed.error.issues[0].message}`);
  const { environment, repo, githubEnvironment } = parsed.data;
  // A workflow passes a secret that is not set as an empty variable: read it as unset.
  const env = Object.fromEntries(Object.entries(io.env).filter(([, v]) => v !== ''));
  const name = (key: 'ACCESS_TOKEN' | 'REFRESH_TOKEN') => variableName(environment, key);
  const given = (key: 'ACCESS_TOKEN' | 'REFRESH_TOKEN') => env[name(key)];
  const where = githubEnvironment ? `the GitHub environment ${githubEnvironment}` : repo;

  const accessToken = given('ACCESS_TOKEN');
  if (accessToken) {
    handOn(io, name('ACCESS_TOKEN'), accessToken);
    io.out(`${name('ACCESS_TOKEN')} is given: used as it is, no refresh token exchanged.`);
    return;
  }
  const refreshToken = given('REFRESH_TOKEN');
  if (!refreshToken)
    throw new RotationError(
      `${environment} has no user session: set the secret ${name('REFRESH_TOKEN')} in ${where} (npm run login -- ${environment} --show-refresh-token, see docs/ci-tokens.md).`,
    );
  const client = readClientSettings(environment, env);
  if (!client.value) throw new RotationError(`${environment} is not configured: ${client.problems.join('; ')}`);

  const gh = runGh(io.env);
  const target = ['--repo', repo, ...(githubEnvironment ? ['--env', githubEnvironment] : [])];
  if (!env.GH_TOKEN)
    throw new RotationError(
      `GH_TOKEN is empty: the rotated ${name('REFRESH_TOKEN')} could not be written back, so nothing was exchanged. Give the step a token allowed to write secrets (SECRETS_WRITE_TOKEN in ${where}, docs/ci-tokens.md).`,
    );
  const probe = gh(['secret', 'list', ...target]);
  if (probe.status !== 0)
    throw new RotationError(
      `gh cannot read the secrets of ${where} (${oneLine(probe.stderr) || `exit ${probe.status}`}), so nothing was exchanged: the token in SECRETS_WRITE_TOKEN must be allowed to read and write secrets there (docs/ci-tokens.md).`,
    );

  const endpoint = `${client.value.oauthBaseUrl}/oauth2/token`;
  const answer = await exchange(endpoint, client.value, refreshToken, environment);
  // Masked first: from here on the runner hides both values wherever they appear in the log.
  io.out(`::add-mask::${answer.access_token}`);
  io.out(`::add-mask::${answer.refresh_token}`);
  const written = gh(['secret', 'set', name('REFRESH_TOKEN'), ...target], answer.refresh_token);
  if (written.status !== 0)
    throw new RotationError(
      `The rotated ${name('REFRESH_TOKEN')} could not be written back to ${where} (gh secret set: ${oneLine(written.stderr) || `exit ${written.status}`}). The secret still holds the token this run spent: the next run gets invalid_grant. Log in again (npm run login -- ${environment} --show-refresh-token) and set the secret, then fix SECRETS_WRITE_TOKEN (docs/ci-tokens.md).`,
    );
  io.out(`${name('REFRESH_TOKEN')} rotated: the next one is stored in ${where}.`);
  handOn(io, name('ACCESS_TOKEN'), answer.access_token);
}

/** One refresh grant through oauth4webapi (fixtures/config/oauth.ts): client_secret_basic, the egress proxy. */
async function exchange(
  endpoint: string,
  client: { clientId: string; clientSecret: string; oauthBaseUrl: string },
  refreshToken: string,
  environment: string,
): Promise<{ access_token: string; refresh_token: string }> {
  const upper = environment.toUpperCase();
  const insecure = insecureOauthUrl(client.oauthBaseUrl, `${upper}_OAUTH_BASE_URL`);
  if (insecure) throw new RotationError(`${insecure} Nothing was spent.`);
  const o = oauthClient({ ...client, timeoutMs: EXCHANGE_TIMEOUT_MS }, `${upper}_OAUTH_BASE_URL`);
  const outcome = await refreshGrant(o, refreshToken);
  if ('unreachable' in outcome)
    throw new RotationError(
      `Could not use the ${environment} token endpoint ${endpoint}${viaProxy(endpoint)} (${outcome.unreachable}): the token may not be spent. Check ${upper}_OAUTH_BASE_URL and the network.`,
    );
  if ('refused' in outcome) {
    const { code } = outcome.refused;
    const fix =
      code === 'invalid_grant'
        ? `${upper}_REFRESH_TOKEN was spent, revoked or expired (a run whose write-back failed, or the same token used elsewhere): log in again (npm run login -- ${environment} --show-refresh-token) and set the secret.`
        : code === 'invalid_client'
          ? `Check ${upper}_CLIENT_ID and ${upper}_CLIENT_SECRET.`
          : `Check ${upper}_OAUTH_BASE_URL, or try again later.`;
    throw new RotationError(`The ${environment} token endpoint refused the refresh token: ${code}. ${fix}`);
  }
  const answer = outcome.tokens;
  if (!answer.refresh_token)
    throw new RotationError(
      `The ${environment} token endpoint answered without a refresh_token (the client needs the offline_access scope). The token may be spent: log in again.`,
    );
  return { access_token: answer.access_token, refresh_token: answer.refresh_token };
}

/** `NAME=value` for the later steps of the job, in $GITHUB_ENV's multi-line form with a random delimiter. */
function handOn(io: RotationIo, name: string, value: string): void {
  const file = io.env.GITHUB_ENV;
  if (!file) return;
  const delimiter = `EOF_${randomBytes(12).toString('hex')}`;
  fs.appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 300);

if (require.main === module) {
  rotateRefreshToken(process.argv.slice(2), {
    env: inheritedEnvironment(),
    out: (line) => process.stdout.write(`${line}\n`),
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stdout.write(`::error::rotate-refresh-token failed: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
