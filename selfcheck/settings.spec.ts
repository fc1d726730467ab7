/**
 * The settings (fixtures/config/settings.ts), read from plain objects: every problem in one message, each
 * naming its variable and showing its value unless it is a secret; "not configured" apart from
 * "misconfigured"; and `.env.example` uncommented line by line never yields a wrong value.
 */
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import {
  askedProjects,
  documentedHosts,
  type EnvironmentName,
  type environmentVariables,
  explainProblems,
  loadDotenv,
  localMayRun,
  OptInInFileError,
  projectMayRun,
  readEnvironment,
  readSettings,
  suiteVariables,
} from '../fixtures/config/settings';
import { definitionUrlFor } from '../fixtures/reporting/drift';
import { expect, ROOT, tempDir, test } from './fixtures';

/** No refresh token stored by `npm run login`: the developer's own .auth/ must not change a verdict. */
const AUTH = { QR_AUTH_DIR: tempDir('auth') };
const problemsOf = (source: NodeJS.ProcessEnv) => readSettings({ ...AUTH, ...source }).problems;
const prelive = { PRELIVE_CLIENT_ID: 'qa-client', PRELIVE_ACCESS_TOKEN: 'qa-access-token' };

test('every problem of every variable is listed in one message, the suite variables too', () => {
  const problems = problemsOf({
    PRELIVE_CLIENT_ID: 'qa-client ',
    PRELIVE_API_BASE_URL: 'apis-prelive.quran.foundation',
    PRODUCTION_CLIENT_ID: 'qa-client',
    QR_WORKERS: 'two',
    QR_REQUEST_TIMEOUT_MS: '15s',
  });
  expect(problems).toEqual([
    expect.stringMatching(/^QR_REQUEST_TIMEOUT_MS must be a number \(it is "15s"\)/),
    expect.stringMatching(/^QR_WORKERS must be a number of workers \(e\.g\. 2\) or a share of the cores/),
    'PRELIVE_API_BASE_URL is not an http(s) URL (it is "apis-prelive.quran.foundation")',
    'PRELIVE_CLIENT_ID has whitespace at its start or end (it is "qa-client ")',
    expect.stringMatching(/^no credentials: set PRELIVE_ACCESS_TOKEN, or PRELIVE_REFRESH_TOKEN/),
    expect.stringMatching(/^no credentials: set PRODUCTION_ACCESS_TOKEN, or PRODUCTION_REFRESH_TOKEN/),
  ]);
  expect(explainProblems(problems)).toContain(`has 6 problems:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
});

test('a value with whitespace at either end is refused, naming its variable and showing the value', () => {
  expect(problemsOf({ ...prelive, PRELIVE_CLIENT_ID: ' qa-client' })).toEqual([
    'PRELIVE_CLIENT_ID has whitespace at its start or end (it is " qa-client")',
  ]);
  expect(problemsOf({ QR_SEED: '42 ' })[0]).toMatch(
    /^QR_SEED has whitespace at its start or end \(it is "42 "\); replays/,
  );
});

test('a URL that is not an http(s) URL is refused, naming its variable and showing the value', () => {
  for (const value of ['apis-prelive.quran.foundation/quran-reflect', 'ftp://apis-prelive.quran.foundation'])
    expect(problemsOf({ ...prelive, PRELIVE_API_BASE_URL: value })).toEqual([
      `PRELIVE_API_BASE_URL is not an http(s) URL (it is ${JSON.stringify(value)})`,
    ]);
});

test("a secret's value is never shown, whatever is wrong with it", () => {
  const secrets = {
    PRELIVE_CLIENT_SECRET: ' s3cret-value',
    PRELIVE_ACCESS_TOKEN: 'eyJ.token with a note',
    PRELIVE_REFRESH_TOKEN: 'rt_abc ',
  };
  const problems = problemsOf({ PRELIVE_CLIENT_ID: 'qa-client', ...secrets });
  expect(problems).toHaveLength(3);
  for (const [name, value] of Object.entries(secrets)) {
    expect(problems.find((p) => p.startsWith(`${name} `))).toContain('(value hidden: a secret)');
    expect(problems.join('\n')).not.toContain(value.trim());
  }
});

test('nothing set is "not configured"; anything set is configured or misconfigured', () => {
  const status = (source: NodeJS.ProcessEnv) =>
    readSettings({ ...AUTH, ...source }).settings?.environments.prelive.status;
  expect(status({})).toBe('not-configured');
  expect(readEnvironment('prelive', { PRELIVE_USER_ID: 'u' }, readSettings(AUTH).settings!.suite).status).toBe(
    'misconfigured',
  );
  expect(status(prelive)).toBe('ok');
});

test('an empty value is unset, as a CI secret that is not defined arrives: no problem, the default applies', () => {
  const unsetSecrets = { PRELIVE_CLIENT_ID: '', PRELIVE_CLIENT_SECRET: '', PRELIVE_ACCESS_TOKEN: '' };
  const read = readSettings({ ...AUTH, ...unsetSecrets, PRODUCTION_ALLOW_WRITES: '', QR_WORKERS: '', QR_SEED: '' });
  expect(read.problems).toEqual([]);
  expect(read.settings?.environments.prelive.status).toBe('not-configured');
  expect(read.settings?.suite).toMatchObject({ PRODUCTION_ALLOW_WRITES: false, QR_WORKERS: 2 });
  expect(read.settings?.suite.QR_SEED).toBeUndefined();
  const configured = readSettings({ ...AUTH, ...prelive, PRELIVE_REFRESH_TOKEN: '', PRELIVE_API_BASE_URL: '' });
  expect(configured.settings?.environments.prelive).toMatchObject({
    status: 'ok',
    env: { refreshToken: undefined, apiBaseUrl: documentedHosts.prelive.api },
  });
});

test('an environment configured with a client and a token gets the documented hosts by default', () => {
  const production = readSettings({ ...AUTH, PRODUCTION_CLIENT_ID: 'c', PRODUCTION_ACCESS_TOKEN: 't' }).settings
    ?.environments.production;
  expect(production).toMatchObject({
    status: 'ok',
    env: {
      apiBaseUrl: documentedHosts.production.api,
      oauthBaseUrl: documentedHosts.production.oauth,
      allowWrites: false,
      privateOnly: true,
    },
  });
});

test('a misspelt QR_REFERENCE_FAULT names the closest valid names', () => {
  const [problem] = problemsOf({ QR_REFERENCE_FAULT: 'limits-in-byte' });
  expect(problem).toMatch(
    /^QR_REFERENCE_FAULT is not a known name; did you mean limits-in-bytes\b.*\(it is "limits-in-byte"\)/,
  );
});

test('a request waits 15 s at most unless told otherwise, and never less than 100 ms nor more than 2 minutes', () => {
  const timeout = (value?: string) => readSettings({ ...AUTH, QR_REQUEST_TIMEOUT_MS: value });
  expect(timeout().settings?.suite.QR_REQUEST_TIMEOUT_MS).toBe(15_000);
  expect(timeout('1000').settings?.suite.QR_REQUEST_TIMEOUT_MS).toBe(1_000);
  expect(timeout('99').problems).toEqual([
    expect.stringMatching(/^QR_REQUEST_TIMEOUT_MS must be at least 100 \(it is "99"\)/),
  ]);
  expect(timeout('120001').problems).toEqual([expect.stringMatching(/^QR_REQUEST_TIMEOUT_MS must be at most 120000/)]);
});

// ---- .env ---------------------------------------------------------------------------------------

/** `.env` holding `lines`, in a folder of its own; what loadDotenv makes of it for a run whose environment is `run`. */
function withDotenv(lines: string[], run: NodeJS.ProcessEnv) {
  const dir = tempDir('dotenv');
  fs.writeFileSync(path.join(dir, '.env'), `${lines.join('\n')}\n`);
  const target = { ...run };
  try {
    loadDotenv(target, dir);
    return { target };
  } catch (e) {
    return { target, error: e as Error };
  }
}

test('.env fills what the run leaves unset (empty included) and never wins over a value the run sets', () => {
  const { target, error } = withDotenv(['PRELIVE_CLIENT_ID=from-file', 'QR_WORKERS=1', 'QR_SEED=7'], {
    QR_WORKERS: '3',
    QR_SEED: '',
  });
  expect(error).toBeUndefined();
  expect(target).toEqual({ PRELIVE_CLIENT_ID: 'from-file', QR_WORKERS: '3', QR_SEED: '7' });
  expect(withDotenv(['PRELIVE_CLIENT_ID=from-file'], { QR_DOTENV: 'off' }).target).toEqual({ QR_DOTENV: 'off' });
});

test('a .env that sets PRODUCTION_ALLOW_WRITES is refused in one line saying how to opt in for one run', () => {
  for (const value of ['true', 'false', '1']) {
    const { target, error } = withDotenv(['PRODUCTION_CLIENT_ID=c', `PRODUCTION_ALLOW_WRITES=${value}`], {
      PRODUCTION_ALLOW_WRITES: 'true',
    });
    expect(error).toBeInstanceOf(OptInInFileError);
    expect(error?.message).toMatch(
      /^PRODUCTION_ALLOW_WRITES is set in .*\.env, .*: delete that line and opt in on the command line of the run .*PRODUCTION_ALLOW_WRITES=true npx playwright test --project=production/,
    );
    expect(error?.message).not.toContain('\n');
    expect(target.PRODUCTION_CLIENT_ID).toBeUndefined();
  }
  // Empty is unset, there too; and the run's own opt-in stays the run's.
  const { target, error } = withDotenv(['PRODUCTION_ALLOW_WRITES='], { PRODUCTION_ALLOW_WRITES: 'true' });
  expect(error).toBeUndefined();
  expect(target).toEqual({ PRODUCTION_ALLOW_WRITES: 'true' });
});

// ---- .env.example ------------------------------------------------------------------------------

type Line = { index: number; name: string; literal: string; saysDefault: boolean };

/** The commented-out assignments of .env.example, with what each says: its value, and whether it is the default. */
function assignments(lines: string[]): Line[] {
  return lines.flatMap((line, index) => {
    const m = /^# ?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) return [];
    let notes = '';
    for (let i = index - 1; i >= 0 && /^#(?! ?[A-Z][A-Z0-9_]*=)/.test(lines[i]); i--) notes = `${lines[i]}\n${notes}`;
    const literal = m[2]
      .replace(/\s+#.*$/, '')
      .trim()
      .replace(/^(["'])(.*)\1$/, '$2');
    return [
      { index, name: m[1], literal, saysDefault: /the line below is the default|\(default [^)]*\)/i.test(notes) },
    ];
  });
}

/** The value the suite uses for one variable set alone (with what its environment needs), or undefined when refused. */
function effective(name: string, value: string | undefined): { value: unknown } | undefined {
  if (name in suiteVariables) {
    const { suite } = readSettings({ ...AUTH, [name]: value });
    return suite ? { value: suite[name as keyof typeof suiteVariables] } : undefined;
  }
  const [prefix, ...rest] = name.split('_');
  const environment = prefix.toLowerCase() as EnvironmentName;
  const key = rest.join('_') as keyof typeof environmentVariables;
  const source = { [`${prefix}_CLIENT_ID`]: 'c', [`${prefix}_ACCESS_TOKEN`]: 't', [name]: value };
  const read = readEnvironment(environment, source, readSettings(AUTH).settings!.suite);
  if (read.status !== 'ok') return undefined;
  const field = key.toLowerCase().replace(/_(\w)/g, (_, c: string) => c.toUpperCase()) as keyof typeof read.env;
  return { value: read.env[field] ?? (key === 'OPENAPI_URL' ? definitionUrlFor(environment, {}) : undefined) };
}

const means = (value: unknown, literal: string) =>
  typeof value === 'boolean' ? value === ['true', '1'].includes(literal) : String(value) === literal;

test('.env.example uncommented line by line: every value is accepted as documented or refused by its name', () => {
  const lines = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n');
  const documented = assignments(lines);
  expect(documented.length).toBeGreaterThan(15);
  // Production writes are opted in per run, never from a file: the example offers no such line.
  expect(documented.map((d) => d.name)).not.toContain('PRODUCTION_ALLOW_WRITES');
  for (const [step, line] of documented.entries()) {
    lines[line.index] = lines[line.index].replace(/^# ?/, '');
    const parsed = dotenv.parse(lines.join('\n'));
    const problems = problemsOf(parsed);
    for (const { name, literal, saysDefault } of documented.slice(0, step + 1)) {
      const where = `${name}=${literal}, after uncommenting ${step + 1} line(s)`;
      if (problems.some((p) => p.startsWith(`${name} `))) continue;
      expect(parsed[name], `${where}: dotenv reads what the line shows`).toBe(literal);
      if (literal === '') {
        expect(effective(name, ''), `${where}: an empty value is unset`).toEqual(effective(name, undefined));
        continue;
      }
      const used = effective(name, parsed[name]);
      expect(used, `${where}: refused, yet not named among the problems`).toBeDefined();
      expect(means(used!.value, literal), `${where}: accepted as ${JSON.stringify(used!.value)}`).toBe(true);
      if (saysDefault)
        expect(effective(name, undefined)?.value, `${where}: documented as the default`).toEqual(used!.value);
    }
  }
});

test('the embedded API starts unless only other projects are asked for, however --project is written', () => {
  const run = (...args: string[]) => ['node', 'playwright', 'test', ...args];
  expect(askedProjects(run('--project', 'prelive', 'local', '--grep', 'x'))).toEqual(['prelive', 'local']);
  expect(askedProjects(run('--project=prelive,production'))).toEqual(['prelive', 'production']);
  expect(localMayRun(run())).toBe(true);
  expect(localMayRun(run('--project', 'prelive', 'local'))).toBe(true);
  expect(localMayRun(run('--project=pre*'))).toBe(true);
  expect(localMayRun(run('--project=prelive', '--grep', 'local'))).toBe(false);
  expect(projectMayRun('production', run('--project=local'))).toBe(false);
  expect(projectMayRun('production', run('--project', 'local', 'production'))).toBe(true);
});
