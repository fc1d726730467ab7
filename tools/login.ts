/**
 * npm run login -- <prelive|production> [--port 8976] [--timeout 5m] [--scope "..."] [--show-refresh-token]
 *
 * Logs a person in once (OAuth2 authorization code with PKCE, RFC 7636, through a loopback redirect,
 * RFC 8252) and keeps the refresh token where the suite keeps rotated ones, owner-only, so that the
 * next `npx playwright test --project=<env>` needs only the client id and secret.
 * Secrets are never printed, unless asked (--show-refresh-token).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Response } from 'undici';
import { z } from 'zod';
import { clientBasicAuth, outboundFetch, viaProxy } from '../fixtures/config/outbound';
import {
  declaredVariables,
  documentedHosts,
  hostSettings,
  loadDotenv,
  readClientSettings,
} from '../fixtures/config/settings';
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

const USAGE =
  'Usage: npm run login -- <prelive|production> [--port 8976] [--timeout 5m] [--scope "openid offline_access room"]' +
  ' [--show-refresh-token] [--no-browser]';

type Parsed<T> = { value?: T; problems: string[] };

/** The command line (and QR_LOGIN_PORT); every problem is listed, none thrown. */
function parseCommand(argv: string[], env: NodeJS.ProcessEnv): Parsed<Command> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        timeout: { type: 'string', default: DEFAULT_TIMEOUT },
        scope: { type: 'string', default: DEFAULT_SCOPE },
        'show-refresh-token': { type: 'boolean', default: false },
        'no-browser': { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    return { problems: [(e as Error).message] };
  }
  const { values, positionals } = parsed;
  const portFrom = values.port !== undefined ? '--port' : env.QR_LOGIN_PORT ? 'QR_LOGIN_PORT' : 'default';
  const result = Command.safeParse({
    environment: positionals[0],
    port: values.port ?? env.QR_LOGIN_PORT ?? DEFAULT_PORT,
    timeoutMs: values.timeout,
    scope: values.scope,
    showRefreshToken: values['show-refresh-token'],
    openBrowser: !values['no-browser'],
  });
  const names: Record<string, string> = { environment: 'the environment', port: portFrom, timeoutMs: '--timeout' };
  const named = (key: string) => names[key] ?? `--${key}`;
  const problems = result.success ? [] : result.error.issues.map((i) => `${named(String(i.path[0]))} ${i.message}`);
  if (positionals.length > 1) problems.push(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  return { value: problems.length ? undefined : result.data, problems };
}

type LoginSettings = { clientId: string; clientSecret: string; oauthBaseUrl: string; authDir: string };

/** What login needs from the environment (fixtures/config/settings.ts), every problem listed, none thrown. */
function readLoginSettings(name: Env, source: NodeJS.ProcessEnv): Parsed<LoginSettings> {
  const { value, problems } = readClientSettings(name, source);
  return value ? { value, problems } : { problems };
}

/** The command and the settings, or one message listing every problem of both. */
function readInputs(argv: string[], source: NodeJS.ProcessEnv): { c: Command; s: LoginSettings } {
  loadDotenv(source);
  const command = parseCommand(argv, source);
  const name = command.value?.environment ?? Command.shape.environment.safeParse(argv[0]).data;
  const settings = name ? readLoginSettings(name, source) : { problems: [] };
  if (command.value && settings.value) return { c: command.value, s: settings.value };
  const problems = [...command.problems, ...settings.problems].map((p) => `  - ${p}`);
  throw new LoginError(
    `Cannot log in${name ? ` to ${name}` : ''}:\n${problems.join('\n')}\n` +
      `Variables can also come from .env (see .env.example).\n${USAGE}`,
    2,
  );
}

// ---- the authorization request ----------------------------------------------------------------

type Pkce = { verifier: string; challenge: string };

function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

type AuthorizationRequest = { redirectUri: string; scope: string; state: string; pkce: Pkce };

function authorizationUrl(s: LoginSettings, o: AuthorizationRequest): string {
  const url = new URL(`${s.oauthBaseUrl}/oauth2/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: s.clientId,
    redirect_uri: o.redirectUri,
    scope: o.scope,
    state: o.state,
    code_challenge: o.pkce.challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

const OAuthError = z.looseObject({ error: z.string(), error_description: z.string().optional() });

/** An OAuth2 error from a JSON body, or from the query of a redirect. */
async function oauthErrorOf(response: Response): Promise<z.infer<typeof OAuthError> | undefined> {
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
  const error = response.status >= 300 ? await oauthErrorOf(response) : undefined;
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

type Callback = { server: http.Server; code: Promise<string> };

async function listenForCallback(c: Command, state: string): Promise<Callback> {
  let settle!: { resolve: (code: string) => void; reject: (e: Error) => void };
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
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
    const q = url.searchParams;
    if (q.get('state') !== state) {
      answer(400, 'Login failed', 'This answer does not belong to the waiting login (wrong state). Start again.');
      return settle.reject(
        new LoginError(
          'The browser came back with a state that is not the one this login sent: the answer does not belong to this ' +
            'login (an old tab, another login, or a forged redirect). Nothing was exchanged. Run the login again.',
        ),
      );
    }
    const error = q.get('error');
    if (error) {
      const description = q.get('error_description');
      answer(403, 'Login not completed', `The OAuth2 server answered ${error}. You can close this tab.`);
      return settle.reject(
        new LoginError(
          error === 'access_denied'
            ? 'Consent was refused (access_denied): no token was issued. Run the login again and allow access ' +
                `(the suite needs the scopes "${c.scope}").`
            : `The OAuth2 server answered ${error}${description ? ` ("${description}")` : ''}: no token was issued.`,
        ),
      );
    }
    const received = q.get('code');
    if (!received) {
      answer(400, 'Login failed', 'The answer carries no code. Start the login again.');
      return settle.reject(new LoginError('The browser came back without a code nor an error. Run the login again.'));
    }
    answer(200, 'Logged in', 'You can close this tab and go back to the terminal.');
    settle.resolve(received);
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
  return { server, code };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new LoginError(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the code exchange and the store ------------------------------------------------------------

const TokenAnswer = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
});
type TokenAnswer = z.infer<typeof TokenAnswer>;

type CodeGrant = { code: string; redirectUri: string; verifier: string };

async function exchangeCode(s: LoginSettings, c: Command, o: CodeGrant): Promise<TokenAnswer> {
  const endpoint = `${s.oauthBaseUrl}/oauth2/token`;

  let response: Awaited<ReturnType<typeof outboundFetch>>;
  try {
    response = await outboundFetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: clientBasicAuth(s.clientId, s.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: o.code,
        redirect_uri: o.redirectUri,
        code_verifier: o.verifier,
      }).toString(),
      timeoutMs: EXCHANGE_TIMEOUT_MS,
    });
  } catch (e) {
    throw new LoginError(
      `Could not reach the token endpoint ${endpoint} (${causeOf(e)}${viaProxy(endpoint)}). ` +
        'Check the network, and run the login again.',
    );
  }
  const text = await response.text();
  const json = jsonOrUndefined(text);
  const upper = c.environment.toUpperCase();
  if (!response.ok) {
    const error = OAuthError.safeParse(json);
    const code = error.success ? error.data.error : `HTTP ${response.status}`;
    const fix: Record<string, string> = {
      invalid_client:
        `Check ${upper}_CLIENT_ID and ${upper}_CLIENT_SECRET: the server did not accept them ` +
        '(HTTP Basic client authentication, client_secret_basic).',
      invalid_grant:
        'The code was refused: it expired (codes last minutes), was already used, or the redirect URI or PKCE ' +
        'verifier did not match. Run the login again, and finish it without delay.',
      unauthorized_client: `The client ${s.clientId} may not use the authorization_code grant: have it enabled.`,
    };
    const description = error.success && error.data.error_description ? ` ("${error.data.error_description}")` : '';
    const advice = fix[code] ?? `Check ${upper}_OAUTH_BASE_URL.`;
    throw new LoginError(`The ${c.environment} token endpoint refused the code: ${code}${description}. ${advice}`);
  }
  const answer = TokenAnswer.safeParse(json);
  if (!answer.success)
    throw new LoginError(
      `The token endpoint answered ${response.status} without an access_token: check ${upper}_OAUTH_BASE_URL.`,
    );
  if (!answer.data.refresh_token)
    throw new LoginError(
      'The token endpoint issued no refresh token: the client must be allowed the scope offline_access and the ' +
        'refresh_token grant. The suite needs a refresh token to run after this hour.',
    );
  return answer.data;
}

/** Owner-only (folder 0700, file 0600), written atomically: a crash never leaves half a token. */
function storeRefreshToken(file: string, record: { refreshToken: string; scope: string }): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const updatedAt = new Date().toISOString();
  const body = JSON.stringify({ source: 'login', refreshToken: record.refreshToken, updatedAt, scope: record.scope });
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, `${body}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
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
  say(`  npx playwright test --project=${c.environment}`);
  say(`  uses the stored token when ${upper}_REFRESH_TOKEN is not set,`);
  say(`  with ${upper}_CLIENT_ID and ${upper}_CLIENT_SECRET (environment or .env).`);
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
  const redirectUri = `http://127.0.0.1:${c.port}/callback`;
  const state = randomBytes(16).toString('base64url');
  const pkce = createPkce();
  const url = authorizationUrl(s, { redirectUri, scope: c.scope, state, pkce });

  const callback = await listenForCallback(c, state);
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
    const code = await withTimeout(
      callback.code,
      c.timeoutMs,
      `No answer from the browser within ${Math.round(c.timeoutMs / 1000)} s: ` +
        'run the login again (--timeout to wait longer).',
    );
    const answer = await exchangeCode(s, c, { code, redirectUri, verifier: pkce.verifier });
    const file = path.join(s.authDir, `${c.environment}.refresh.json`);
    storeRefreshToken(file, { refreshToken: answer.refresh_token!, scope: answer.scope ?? c.scope });
    nextSteps(c, file, answer);
  } finally {
    stop();
  }
}

login(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof LoginError) {
    process.stderr.write(`\n${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`\nLogin failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
