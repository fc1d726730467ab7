/**
 * npm run login -- <prelive|production> [--port 8976] [--timeout 5m] [--scope "..."] [--show-refresh-token]
 *
 * Logs a person in once (OAuth2 authorization code with PKCE, RFC 7636, through a loopback redirect,
 * RFC 8252; oauth4webapi does the protocol, fixtures/config/oauth.ts sets it up) and keeps the refresh
 * token where the suite keeps rotated ones, owner-only, so that the next
 * `npx playwright test --project=<env>` needs only the client id and secret.
 * Secrets are never printed, unless asked (--show-refresh-token).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Response } from 'undici';
import { z } from 'zod';
import {
  insecureOauthUrl,
  type OauthClient,
  oauth,
  oauthClient,
  oauthErrorOf,
  storeRefreshToken,
} from '../fixtures/config/oauth';
import { outboundFetch, viaProxy } from '../fixtures/config/outbound';
import {
  declaredVariables,
  documentedHosts,
  hostSettings,
  loadDotenv,
  readClientSettings,
  variableName,
} from '../fixtures/config/settings';
import { type CommandSpec, exitOnUsageError, readCommandLine, UsageError } from '../fixtures/contract/cli';
import { jsonOrUndefined } from '../fixtures/contract/json';

const DEFAULT_PORT = 8976;
const DEFAULT_SCOPE = 'openid offline_access room';
const DEFAULT_TIMEOUT = '5m';
const PREFLIGHT_TIMEOUT_MS = 5_000;
const EXCHANGE_TIMEOUT_MS = 15_000;

type Env = keyof typeof documentedHosts;

class LoginError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

// ---- command line and settings ------------------------------------------------------------------

const Duration = z
  .string()
  .regex(/^\d+(s|m)?$/, 'must be seconds (300, 300s) or minutes (5m)')
  .transform((s) => Number.parseInt(s, 10) * (s.endsWith('m') ? 60_000 : 1_000))
  .refine((ms) => ms >= 1_000, 'must be at least 1 second');
const Port = z
  .union([z.string(), z.number()])
  .transform(Number)
  .refine((n) => Number.isInteger(n) && n >= 1 && n <= 65_535, 'must be a port number (1 to 65535)');

const Command = z.object({
  environment: z.enum(Object.keys(documentedHosts) as [Env, ...Env[]], { error: 'must be prelive or production' }),
  port: Port,
  timeoutMs: Duration,
  scope: z
    .string()
    .trim()
    .refine((s) => s.split(/\s+/).includes('offline_access'), 'must include offline_access (else no refresh token)'),
  showRefreshToken: z.boolean(),
  openBrowser: z.boolean(),
});
type Command = z.infer<typeof Command>;

const spec: CommandSpec = {
  usage: 'npm run login -- <prelive|production> [options]',
  about:
    'Logs you in once in a browser (authorization code with PKCE through http://127.0.0.1:<port>/callback) and\n' +
    "stores the refresh token owner-only in QR_AUTH_DIR (.auth/), where the suite's runs find it. Reads the\n" +
    "environment's client from the environment or the env file (QR_ENV_FILE, else .env).",
  options: {
    port: {
      type: 'string',
      help: '<port> the loopback redirect listens on (or QR_LOGIN_PORT)',
      default: String(DEFAULT_PORT),
    },
    timeout: {
      type: 'string',
      help: '<time> to wait for the browser: seconds (300) or minutes (5m)',
      default: DEFAULT_TIMEOUT,
    },
    scope: { type: 'string', help: '<scopes> asked for, offline_access among them', default: DEFAULT_SCOPE },
    'show-refresh-token': { type: 'boolean', help: 'also prints the refresh token (for a CI secret)' },
    'no-browser': { type: 'boolean', help: 'prints the URL without opening a browser' },
  },
  positionals: [{ name: 'the environment', choices: Object.keys(documentedHosts) }],
};
const USAGE = `Usage: ${spec.usage} (--help for the options)`;

/** The command line (and QR_LOGIN_PORT): a wrong argument is a UsageError (one line); bad values are listed. */
function parseCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { environment: Env; value?: Command; problems: string[] } {
  const { values, positionals } = readCommandLine(spec, argv);
  if (!positionals.length) throw new UsageError(`which environment? prelive or production; usage: ${spec.usage}`);
  const environment = positionals[0] as Env;
  const portGiven = argv.some((a) => a.startsWith('--port'));
  const result = Command.safeParse({
    environment,
    port: portGiven ? values.port : (env.QR_LOGIN_PORT ?? values.port),
    timeoutMs: values.timeout,
    scope: values.scope,
    showRefreshToken: values['show-refresh-token'] === true,
    openBrowser: values['no-browser'] !== true,
  });
  const portFrom = portGiven ? '--port' : env.QR_LOGIN_PORT ? 'QR_LOGIN_PORT' : 'default';
  const names: Record<string, string> = { port: portFrom, timeoutMs: '--timeout' };
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${names[String(i.path[0])] ?? `--${String(i.path[0])}`} ${i.message}`);
  return { environment, value: result.data, problems };
}

type LoginSettings = { clientId: string; clientSecret: string; oauthBaseUrl: string; authDir: string };

/** The command and the settings (fixtures/config/settings.ts), or one message listing every problem of both. */
function readInputs(argv: string[], source: NodeJS.ProcessEnv): { c: Command; s: LoginSettings } {
  // Real environment variables win over the env file; self-tests turn it off (QR_DOTENV=off), as for the suite.
  let envFile: string | undefined;
  try {
    loadDotenv(source);
  } catch (e) {
    // QR_ENV_FILE names no file (a SettingsError), or .env opts in to production writes.
    envFile = (e as Error & { problems?: string[] }).problems?.join('; ') ?? (e as Error).message;
  }
  const command = parseCommand(argv, source);
  const name = command.environment;
  const settings = readClientSettings(name, source);
  const insecure =
    settings.value && insecureOauthUrl(settings.value.oauthBaseUrl, variableName(name, 'OAUTH_BASE_URL'));
  const problems = [envFile, ...command.problems, ...settings.problems, insecure].filter((p): p is string => !!p);
  if (command.value && settings.value && !problems.length) return { c: command.value, s: settings.value };
  throw new LoginError(
    `Cannot log in to ${name}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
      `Variables can also come from .env or QR_ENV_FILE (see .env.example).\n${USAGE}`,
    2,
  );
}

// ---- the authorization request ----------------------------------------------------------------

type AuthorizationRequest = { redirectUri: string; scope: string; state: string; challenge: string };

function authorizationUrl(s: LoginSettings, o: AuthorizationRequest): string {
  const url = new URL(`${s.oauthBaseUrl}/oauth2/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: s.clientId,
    redirect_uri: o.redirectUri,
    scope: o.scope,
    state: o.state,
    code_challenge: o.challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

const OAuthError = z.looseObject({ error: z.string(), error_description: z.string().optional() });

/** An OAuth2 error from a JSON body, or from the query of a redirect. */
async function refusalOf(response: Response): Promise<z.infer<typeof OAuthError> | undefined> {
  const location = response.headers.get('location');
  if (location) {
    const q = new URL(location, response.url || 'http://x').searchParams;
    if (q.get('error')) return { error: q.get('error')!, error_description: q.get('error_description') ?? undefined };
  }
  const parsed = OAuthError.safeParse(jsonOrUndefined(await response.text()));
  return parsed.success ? parsed.data : undefined;
}

/** Errors of the authorization request itself: the browser would only show them, the person could not fix them. */
const REQUEST_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'unsupported_response_type',
]);

/**
 * Asks the authorization endpoint once, without following redirects, whether it accepts the request:
 * an unregistered redirect URI is answered 400 invalid_request, and is better said here than in a browser.
 */
async function preflight(url: string, s: LoginSettings, c: Command, redirectUri: string): Promise<void> {
  let response: Awaited<ReturnType<typeof outboundFetch>>;
  try {
    response = await outboundFetch(url, { redirect: 'manual', timeoutMs: PREFLIGHT_TIMEOUT_MS });
  } catch (e) {
    warn(`could not check the authorization URL (${causeOf(e)}${viaProxy(url)}): carrying on, a browser may reach it.`);
    return;
  }
  const error = response.status >= 300 ? await refusalOf(response) : undefined;
  await response.body?.cancel().catch(() => {});
  if (!error && response.status >= 400)
    warn(`The authorization endpoint answered HTTP ${response.status} to a check of the URL: carrying on.`);
  if (!error || !REQUEST_ERRORS.has(error.error)) return;
  const said = `${error.error}${error.error_description ? ` ("${error.error_description}")` : ''}`;
  const upper = c.environment.toUpperCase();
  const fix: Record<string, string> = {
    invalid_request:
      `The redirect URI is not registered for this client. Register exactly\n  ${redirectUri}\n` +
      `as a redirect URI of the OAuth2 client ${s.clientId} (${upper}_CLIENT_ID) on ${s.oauthBaseUrl},\n` +
      'or run with --port <port> (or QR_LOGIN_PORT) if http://127.0.0.1:<port>/callback is registered already.',
    invalid_client: `The OAuth2 server does not know the client ${s.clientId}: check ${upper}_CLIENT_ID.`,
    unauthorized_client: `The client ${s.clientId} may not use the authorization-code flow: ask for it to be enabled.`,
    invalid_scope: `The client ${s.clientId} may not ask for "${c.scope}": ask for these scopes, or pass --scope.`,
    unsupported_response_type: `The client ${s.clientId} may not use response_type=code: ask for it to be enabled.`,
  };
  throw new LoginError(`The ${c.environment} authorization endpoint refused the login: ${said}.\n${fix[error.error]}`);
}

// ---- the browser ------------------------------------------------------------------------------

function commandExists(command: string): boolean {
  if (path.isAbsolute(command)) {
    try {
      fs.accessSync(command, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  const finder = process.platform === 'win32' ? 'where' : 'which';
  return spawnSync(finder, [command], { stdio: 'ignore' }).status === 0;
}

/** The command that opens a URL here, if any: $BROWSER, then the platform's own opener. */
type Opener = { command: string; args: string[]; verbatim?: boolean };

function browserCommand(url: string, env: NodeJS.ProcessEnv): Opener | undefined {
  // $BROWSER may list several commands (colon-separated), each with %s for the URL.
  for (const entry of (env.BROWSER ?? '').split(path.delimiter).filter(Boolean)) {
    const [command, ...rest] = entry.trim().split(/\s+/);
    const args = rest.some((a) => a.includes('%s')) ? rest.map((a) => a.replace('%s', url)) : [...rest, url];
    if (commandExists(command)) return { command, args };
  }
  if (process.platform === 'darwin' && commandExists('open')) return { command: 'open', args: [url] };
  // `start` is a cmd built-in; inside double quotes cmd takes the URL's & literally.
  if (process.platform === 'win32')
    return { command: env.ComSpec ?? 'cmd.exe', args: ['/d', '/s', '/c', `start "" "${url}"`], verbatim: true };
  if (process.platform === 'linux' && (env.DISPLAY || env.WAYLAND_DISPLAY) && commandExists('xdg-open'))
    return { command: 'xdg-open', args: [url] };
  return undefined;
}

function openBrowser(url: string, c: Command): void {
  const browser = c.openBrowser ? browserCommand(url, hostSettings()) : undefined;
  const manual = () =>
    say(
      `No browser here: open this URL in a browser on this machine (over SSH, forward the port first: ` +
        `ssh -L ${c.port}:127.0.0.1:${c.port} ...).`,
    );
  if (!browser) {
    manual();
    return;
  }
  const child = spawn(browser.command, browser.args, {
    stdio: 'ignore',
    detached: true,
    windowsVerbatimArguments: browser.verbatim,
  });
  child.on('error', manual);
  child.unref();
  say(`Opening a browser (${path.basename(browser.command)}); if none appears, open the URL above yourself.`);
}

// ---- the loopback callback ----------------------------------------------------------------------

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
  `<body style="font-family:sans-serif;margin:3em"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body>\n`;

/** The callback's parameters, checked by oauth4webapi (state, error) before anything is exchanged. */
type Callback = { server: http.Server; params: Promise<URLSearchParams> };

async function listenForCallback(c: Command, o: OauthClient, state: string): Promise<Callback> {
  let settle!: { resolve: (params: URLSearchParams) => void; reject: (e: Error) => void };
  const params = new Promise<URLSearchParams>((resolve, reject) => (settle = { resolve, reject }));
  let done = false;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== '/callback' || done) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    done = true;
    const answer = (status: number, title: string, text: string) =>
      res
        .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(page(title, text));
    const lib = oauth();
    try {
      const checked = lib.validateAuthResponse(o.as, o.client, url, state);
      if (!checked.get('code')) throw new Error('no code');
      answer(200, 'Logged in', 'You can close this tab and go back to the terminal.');
      settle.resolve(checked);
    } catch (e) {
      if (e instanceof lib.AuthorizationResponseError) {
        answer(403, 'Login not completed', `The OAuth2 server answered ${e.error}. You can close this tab.`);
        const said = `${e.error}${e.error_description ? ` ("${e.error_description}")` : ''}`;
        return settle.reject(
          new LoginError(
            e.error === 'access_denied'
              ? 'Consent was refused (access_denied): no token was issued. Run the login again and allow access ' +
                  `(the suite needs the scopes "${c.scope}").`
              : `The OAuth2 server answered ${said}: no token was issued.`,
          ),
        );
      }
      if (url.searchParams.get('state') !== state) {
        answer(400, 'Login failed', 'This answer does not belong to the waiting login (wrong state). Start again.');
        return settle.reject(
          new LoginError(
            'The browser came back with a state that is not the one this login sent: the answer does not belong to this ' +
              'login (an old tab, another login, or a forged redirect). Nothing was exchanged. Run the login again.',
          ),
        );
      }
      answer(400, 'Login failed', 'The answer carries no code. Start the login again.');
      settle.reject(new LoginError('The browser came back without a code nor an error. Run the login again.'));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new LoginError(
          `Cannot listen on 127.0.0.1:${c.port} (${e.code}): ` +
            `${e.code === 'EADDRINUSE' ? 'something else uses that port' : e.message}. ` +
            'Stop it, or use another port registered for the client with --port.',
        ),
      ),
    );
    server.listen(c.port, '127.0.0.1', resolve);
  });
  return { server, params };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new LoginError(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the code exchange and the store ------------------------------------------------------------

type TokenAnswer = { access_token: string; refresh_token?: string; scope?: string };

async function exchangeCode(s: LoginSettings, c: Command, o: OauthClient, params: URLSearchParams, verifier: string) {
  const lib = oauth();
  const upper = c.environment.toUpperCase();
  const redirectUri = `http://127.0.0.1:${c.port}/callback`;
  let answer: TokenAnswer;
  try {
    const response = await lib.authorizationCodeGrantRequest(
      o.as,
      o.client,
      o.auth,
      params,
      redirectUri,
      verifier,
      o.options,
    );
    answer = await lib.processAuthorizationCodeResponse(o.as, o.client, response, {
      requireIdToken: c.scope.split(/\s+/).includes('openid'),
    });
  } catch (e) {
    const error = oauthErrorOf(e);
    if (error) {
      const fix: Record<string, string> = {
        invalid_client:
          `Check ${upper}_CLIENT_ID and ${upper}_CLIENT_SECRET: the server did not accept them ` +
          '(HTTP Basic client authentication, client_secret_basic).',
        invalid_grant:
          'The code was refused: it expired (codes last minutes), was already used, or the redirect URI or PKCE ' +
          'verifier did not match. Run the login again, and finish it without delay.',
        unauthorized_client: `The client ${s.clientId} may not use the authorization_code grant: have it enabled.`,
      };
      const description = error.description ? ` ("${error.description}")` : '';
      const advice = fix[error.error] ?? `Check ${upper}_OAUTH_BASE_URL.`;
      throw new LoginError(
        `The ${c.environment} token endpoint refused the code: ${error.error}${description}. ${advice}`,
      );
    }
    if (e instanceof lib.OperationProcessingError) throw new LoginError(tokenAnswerProblem(e, o, upper));
    const endpoint = o.as.token_endpoint;
    throw new LoginError(
      `Could not reach the token endpoint ${endpoint} (${causeOf(e)}${viaProxy(endpoint!)}). ` +
        'Check the network, and run the login again.',
    );
  }
  if (!answer.refresh_token)
    throw new LoginError(
      'The token endpoint issued no refresh token: the client must be allowed the scope offline_access and the ' +
        'refresh_token grant. The suite needs a refresh token to run after this hour.',
    );
  return answer;
}

/** What was wrong with a token answer oauth4webapi refused (an id_token's issuer, a missing field). */
function tokenAnswerProblem(e: Error & { code?: string; cause?: unknown }, o: OauthClient, upper: string): string {
  const cause = e.cause as { claim?: string; expected?: string; body?: unknown; status?: number } | undefined;
  if (cause?.claim === 'iss')
    return (
      `The id_token names another issuer than ${cause.expected} (${upper}_OAUTH_BASE_URL with a trailing slash): ` +
      `check ${upper}_OAUTH_BASE_URL. Nothing was stored.`
    );
  const status = cause?.status ? ` (HTTP ${cause.status})` : '';
  return `The token endpoint's answer${status} is not a usable token response: ${e.message}. Check ${upper}_OAUTH_BASE_URL (${o.as.issuer}).`;
}

function subjectOf(accessToken: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof claims?.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

// ---- output -------------------------------------------------------------------------------------

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}
function warn(line: string): void {
  process.stderr.write(`Warning: ${line}\n`);
}

function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.name;
}

function nextSteps(c: Command, file: string, answer: TokenAnswer): void {
  const upper = c.environment.toUpperCase();
  const who = subjectOf(answer.access_token);
  say();
  say(`Logged in to ${c.environment}${who ? ` as ${who}` : ''} (scope: ${answer.scope ?? c.scope}).`);
  say(`Refresh token stored owner-only in ${file}.`);
  if (c.showRefreshToken) {
    say('Refresh token (a secret; it is also the one stored above):');
    say(answer.refresh_token);
  }
  say();
  say('Next:');
  const named = declaredVariables().QR_ENV_FILE;
  const envFile = named ? `QR_ENV_FILE=${named} ` : '';
  say(`  ${envFile}npx playwright test --project=${c.environment}`);
  say(`  uses the stored token when ${upper}_REFRESH_TOKEN is not set,`);
  say(`  with ${upper}_CLIENT_ID and ${upper}_CLIENT_SECRET (environment, or ${envFile ? 'that env file' : '.env'}).`);
  say();
  say('For CI, set these secrets (values are never printed here):');
  say(`  ${upper}_CLIENT_ID, ${upper}_CLIENT_SECRET, and ${upper}_REFRESH_TOKEN`);
  say(`  (or instead of the refresh token, an access token minted per job: ${upper}_ACCESS_TOKEN)`);
  say(`  a refresh token for CI: a login of its own, npm run login -- ${c.environment} --show-refresh-token;`);
  say(`  then delete ${file} and log in again for this machine.`);
  say('Warning: a refresh token given to CI must not also be used here. Refresh tokens rotate (one exchange each):');
  say('  whichever uses it second is refused (invalid_grant).');
}

// ---- main ---------------------------------------------------------------------------------------

async function login(argv: string[]): Promise<void> {
  const { c, s } = readInputs(argv, declaredVariables());
  const lib = oauth();
  const o = oauthClient({ ...s, timeoutMs: EXCHANGE_TIMEOUT_MS }, variableName(c.environment, 'OAUTH_BASE_URL'));
  const redirectUri = `http://127.0.0.1:${c.port}/callback`;
  const state = lib.generateRandomState();
  const verifier = lib.generateRandomCodeVerifier();
  const challenge = await lib.calculatePKCECodeChallenge(verifier);
  const url = authorizationUrl(s, { redirectUri, scope: c.scope, state, challenge });

  const callback = await listenForCallback(c, o, state);
  const stop = () => {
    callback.server.closeAllConnections();
    callback.server.close();
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    await preflight(url, s, c, redirectUri);
    say(`Log in to ${c.environment} (client ${s.clientId}, redirect ${redirectUri}):`);
    say(url);
    openBrowser(url, c);
    say(`Waiting for the browser (at most ${Math.round(c.timeoutMs / 1000)} s) ...`);
    const params = await withTimeout(
      callback.params,
      c.timeoutMs,
      `No answer from the browser within ${Math.round(c.timeoutMs / 1000)} s: ` +
        'run the login again (--timeout to wait longer).',
    );
    const answer = await exchangeCode(s, c, o, params, verifier);
    const file = storeRefreshToken(s.authDir, c.environment, {
      source: 'login',
      refreshToken: answer.refresh_token!,
      scope: answer.scope ?? c.scope,
    });
    nextSteps(c, file, answer);
  } finally {
    stop();
  }
}

login(process.argv.slice(2)).catch((e: unknown) => {
  exitOnUsageError(e, 'login');
  if (e instanceof LoginError) {
    process.stderr.write(`\n${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`\nLogin failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
