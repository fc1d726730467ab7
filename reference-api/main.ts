/**
 * npm run reference-api -- [--port 4010] [--fault NAME] [--variant NAME] [--save-env FILE]
 *
 * Runs the reference API on its own, to rehearse the live path (docs/rehearsal.md): it prints the
 * variables that point the `prelive` project at it (its URLs, an OAuth2 client registered for
 * `npm run login`'s loopback redirect), never a token: the rehearsal logs in as a real run does.
 * The same host serves every fault and variant under /fault/<name>/quran-reflect and
 * /variant/<name>/quran-reflect (server.ts), and the definition snapshot the drift section reads.
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { type CommandSpec, exitOnUsageError, readCommandLine, UsageError } from '../fixtures/contract/cli';
import { type FaultName, faultNames, type VariantName, variantNames } from './faults';
import { API_BASE_PATH, createReferenceApi, listen } from './server';

const spec: CommandSpec = {
  usage: 'npm run reference-api -- [--port 4010] [--fault NAME | --variant NAME] [--save-env FILE]',
  about:
    'Runs the embedded reference API until Ctrl-C, and prints the variables that point the prelive project at it\n' +
    '(docs/rehearsal.md). It issues no token on start: log in with `npm run login -- prelive`, as for real.',
  options: {
    port: { type: 'string', help: '<port> to listen on (127.0.0.1); 0 picks a free one', default: '4010' },
    fault: { type: 'string', help: '<name> serves this fault at /quran-reflect', choices: faultNames },
    variant: { type: 'string', help: '<name> serves this faithful variant at /quran-reflect', choices: variantNames },
    'save-env': { type: 'string', help: '<file> also writes the variables there (owner-only)' },
    'login-port': { type: 'string', help: "<port> npm run login's redirect listens on (its --port)", default: '8976' },
  },
  positionals: [],
};

const port = (option: string, value: string, min: number) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > 65_535)
    throw new UsageError(`--${option} "${value}" is not a port number (${min} to 65535)`);
  return n;
};

/** The published definition's snapshot, served so that a rehearsal's drift section needs no network. */
const DEFINITION_PATH = '/openapi/prelive.json';
function serveDefinition(server: http.Server): void {
  const definition = fs.readFileSync(path.join(__dirname, '..', 'contract', 'openapi', 'prelive.json'));
  const [api] = server.listeners('request') as http.RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) =>
    req.method === 'GET' && req.url === DEFINITION_PATH
      ? res.writeHead(200, { 'content-type': 'application/json' }).end(definition)
      : api(req, res),
  );
}

async function main(argv: string[]) {
  const { values } = readCommandLine(spec, argv);
  const listenPort = port('port', values.port as string, 0);
  const loginPort = port('login-port', values['login-port'] as string, 1);
  if (values.fault && values.variant) throw new UsageError('--fault and --variant: one or the other, not both');

  const clientId = 'reference-client';
  const clientSecret = `ref-secret-${randomBytes(12).toString('hex')}`;
  const redirectUri = `http://127.0.0.1:${loginPort}/callback`;
  const api = createReferenceApi({
    fault: values.fault as FaultName | undefined,
    variant: values.variant as VariantName | undefined,
    clients: { [clientId]: { secret: clientSecret, redirectUris: [redirectUri] } },
  });
  serveDefinition(api.server);
  const { origin, close } = await listen(api, listenPort).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(
      `cannot listen on 127.0.0.1:${listenPort} (${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code}); ` +
        'choose another with --port',
    );
  });
  const envFile = values['save-env'] as string | undefined;
  // The rehearsal's own login store: a login against this API never replaces the real prelive one in .auth/.
  const authDir = envFile ? path.join(path.dirname(path.resolve(envFile)), 'auth') : '.rehearsal/auth';
  const variables = [
    `QR_AUTH_DIR=${authDir}`,
    `PRELIVE_API_BASE_URL=${origin}${API_BASE_PATH}`,
    `PRELIVE_OAUTH_BASE_URL=${origin}`,
    `PRELIVE_OPENAPI_URL=${origin}${DEFINITION_PATH}`,
    `PRELIVE_CLIENT_ID=${clientId}`,
    `PRELIVE_CLIENT_SECRET=${clientSecret}`,
  ];
  if (envFile) {
    fs.mkdirSync(path.dirname(path.resolve(envFile)), { recursive: true, mode: 0o700 });
    fs.writeFileSync(envFile, `${variables.join('\n')}\n`, { mode: 0o600 });
    fs.chmodSync(envFile, 0o600);
  }
  const serving = values.fault ? `fault ${values.fault}` : values.variant ? `variant ${values.variant}` : 'faithful';
  const withFile = envFile ? `QR_ENV_FILE=${envFile} ` : 'QR_ENV_FILE=<that file> ';
  const lines = [
    `Reference API (${serving}) at ${origin}${API_BASE_PATH}, OAuth2 at ${origin}; Ctrl-C stops it.`,
    ...(envFile
      ? [`Wrote ${variables.map((v) => v.split('=')[0]).join(', ')} to ${envFile} (owner-only).`]
      : [
          'Save these lines as an env file of their own (e.g. .rehearsal/env), never in .env (the real prelive):',
          ...variables.map((v) => `  ${v}`),
        ]),
    'Next, in another terminal (docs/rehearsal.md):',
    `  ${withFile}npm run login -- prelive${loginPort === 8976 ? '' : ` --port ${loginPort}`}`,
    `  ${withFile}npx playwright test --project=prelive`,
    'Its client secret and tokens last as long as this process: after a restart, log in again.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = () => void close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  exitOnUsageError(e, 'reference-api');
  throw e;
});
