/**
 * Runs the reference API on its own, e.g. to point the `prelive` or `production` project at it:
 *   npx tsx reference-api/main.ts [--port 4010] [--fault NAME] [--variant NAME]
 * Prints, as KEY=value lines, the variables that configure an environment against it. The same
 * host also serves every fault and variant under /fault/<name>/quran-reflect and
 * /variant/<name>/quran-reflect (server.ts), and the authorization-code flow at /oauth2/auth.
 */

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { faultNames, variantNames } from './faults';
import { DEFAULT_USER } from './oauth';
import { API_BASE_PATH, createReferenceApi, listen } from './server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    fault: { type: 'string' },
    variant: { type: 'string' },
    prefix: { type: 'string', default: 'PRELIVE' },
  },
});
const fault = z.enum(faultNames).optional().parse(values.fault);
const variant = z.enum(variantNames).optional().parse(values.variant);

const clientId = 'reference-client';
const clientSecret = `ref-secret-${randomBytes(12).toString('hex')}`;
/** The login command's default loopback redirect. */
const redirectUri = 'http://127.0.0.1:8976/callback';
const clients = { [clientId]: { secret: clientSecret, redirectUris: [redirectUri] } };
const api = createReferenceApi({ fault, variant, clients });
const grant = { sub: DEFAULT_USER, clientId, scope: 'room.create room.read offline_access' };
void listen(api, Number(values.port)).then(({ origin, close }) => {
  const p = values.prefix;
  console.log(
    [
      `${p}_API_BASE_URL=${origin}${API_BASE_PATH}`,
      `${p}_OAUTH_BASE_URL=${origin}`,
      `${p}_CLIENT_ID=${clientId}`,
      `${p}_CLIENT_SECRET=${clientSecret}`,
      `${p}_REFRESH_TOKEN=${api.issueRefreshToken(grant)}`,
      `${p}_ACCESS_TOKEN=${api.issueAccessToken(grant)}`,
    ].join('\n'),
  );
  const stop = () => void close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});
