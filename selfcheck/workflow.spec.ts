/**
 * The CI workflows keep their promises (docs/tokens-and-ci.md, docs/ci-tokens.md): the self-check is
 * all a pull request runs; the contract runs are a reusable workflow a short caller pins, which checks
 * out the suite at the pinned commit; every action is pinned to a commit SHA with its version; one
 * concurrency group per environment that never cancels a running job; production writes only in the
 * reviewed environment; the secrets reach only the steps that need them, never pasted into a script.
 * The token step's script runs against the reference API's token endpoint with a fake `gh` on PATH.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { environmentVariables } from '../fixtures/config/settings';
import { createReferenceApi, listen } from '../reference-api/server';
import { rotateRefreshToken } from '../tools/rotate-refresh-token';
import { expect, ROOT, tempDir, test } from './fixtures';

// biome-ignore lint/suspicious/noExplicitAny: the workflows' YAML, read key by key by the tests
type Yaml = any;
type Step = { name?: string; id?: string; uses?: string; run?: string; if?: string; env?: Record<string, string> };
type Job = { steps: Step[]; uses?: string; with?: Yaml; if?: string } & Record<string, Yaml>;
type Workflow = { on: Yaml; permissions?: Yaml; concurrency?: Yaml; jobs: Record<string, Job> };

const files = {
  selfcheck: '.github/workflows/selfcheck.yml',
  suite: '.github/workflows/contract-suite.yml',
  contract: '.github/workflows/contract.yml',
  caller: '.github/caller/contract.yml',
} as const;
const text = (f: keyof typeof files) => fs.readFileSync(path.join(ROOT, files[f]), 'utf8');
const workflow = (f: keyof typeof files) => parse(text(f)) as Workflow;
const suiteJob = workflow('suite').jobs.contract;
const step = (name: string) => suiteJob.steps.find((s) => s.name?.startsWith(name) || s.uses?.startsWith(name))!;
const hasBash = spawnSync('bash', ['-c', 'true'], { stdio: 'ignore' }).status === 0;

/** What is wrong with each `uses:` of a workflow's text: a local path, or a 40-hex commit SHA with a version comment. */
function unpinned(workflowText: string): string[] {
  return workflowText
    .split('\n')
    .map((line) => /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)['"]?\s*(?:#\s*(.*))?$/.exec(line))
    .filter((m) => m !== null)
    .filter(([, ref, comment]) => {
      if (ref.startsWith('./')) return false;
      const sha = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref);
      const version = ref.startsWith('actions/') ? /^v\d+\.\d+\.\d+\b/ : /^\S+/;
      return !sha || !version.test(comment ?? '');
    })
    .map(([line]) => line.trim());
}

test('every uses: is a local path or a commit SHA with its version, the same version everywhere', () => {
  expect(unpinned('      - uses: actions/checkout@v4')).toHaveLength(1);
  expect(unpinned('      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1')).toHaveLength(1);
  expect(unpinned('    uses: a/b/.github/workflows/x.yml@3d3c42e5aac5ba805825da76410c181273ba90b1 # main')).toEqual([]);
  expect(unpinned('      - uses: ./.github/actions/setup')).toEqual([]);
  const pins = new Map<string, Set<string>>();
  for (const f of Object.keys(files) as (keyof typeof files)[]) {
    expect(unpinned(text(f)), files[f]).toEqual([]);
    for (const [, action, pin] of text(f).matchAll(/uses:\s*(actions\/[\w-]+)@(\S+ # \S+)/g))
      pins.set(action, (pins.get(action) ?? new Set()).add(pin));
  }
  for (const [action, seen] of pins) expect([...seen], action).toHaveLength(1);
  expect(pins.size).toBeGreaterThanOrEqual(3);
  const dependabot = parse(fs.readFileSync(path.join(ROOT, '.github', 'dependabot.yml'), 'utf8'));
  expect(dependabot.updates).toContainEqual(expect.objectContaining({ 'package-ecosystem': 'github-actions' }));
});

test('pull requests run the self-check only: npm ci && npm test, no secret, no live environment', () => {
  const selfcheck = workflow('selfcheck');
  expect(Object.keys(selfcheck.on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch']);
  expect(selfcheck.on.push.branches).toEqual(['main']);
  const commands = selfcheck.jobs.selfcheck.steps.map((s) => s.run).filter(Boolean) as string[];
  expect(commands.findIndex((c) => /^npm ci\b/.test(c))).toBeLessThan(commands.indexOf('npm test'));
  expect(JSON.stringify(selfcheck)).not.toMatch(/secrets\.|"environment"|contract-suite/);
  // The contract runs: scheduled or dispatched, never on a pull request (nor a push).
  for (const f of ['contract', 'caller'] as const)
    expect(Object.keys(workflow(f).on).sort()).toEqual(['schedule', 'workflow_dispatch']);
  expect(Object.keys(workflow('suite').on)).toEqual(['workflow_call']);
  expect(workflow('contract').on.schedule[0].cron).toMatch(/^(\S+\s+){4}\S+$/);
  // A full run says so in its name: the go-live check reads the latest completed one (docs/reading-results.md).
  expect(workflow('caller')['run-name' as 'on']).toMatch(/'full'/);
});

test("the caller a team copies is this repository's own but for the pin, and stays short", () => {
  const body = (f: 'contract' | 'caller') =>
    text(f)
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/uses: \S+contract-suite\.yml\S*( # .*)?$/, 'uses: <the reusable workflow>'))
      .join('\n');
  expect(body('contract')).toBe(body('caller'));
  expect(text('contract')).toContain('uses: ./.github/workflows/contract-suite.yml');
  expect(text('caller')).toMatch(/uses: [\w-]+\/[\w.-]+\/\.github\/workflows\/contract-suite\.yml@[0-9a-f]{40} # /);
  // The pinned commit has the reusable workflow (checked where the clone has that commit).
  const pinned = /contract-suite\.yml@([0-9a-f]{40})/.exec(text('caller'))![1];
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, stdio: 'ignore' }).status;
  if (git('cat-file', '-e', `${pinned}^{commit}`) === 0)
    expect(git('cat-file', '-e', `${pinned}:${files.suite}`)).toBe(0);
  for (const f of Object.keys(files) as (keyof typeof files)[])
    expect(text(f).split('\n').length, files[f]).toBeLessThan(150);
  const jobs = workflow('caller').jobs;
  expect(Object.values(jobs).map((j) => j.with.environment)).toEqual(['prelive', 'production']);
  expect(Object.values(jobs).every((j) => j.secrets === 'inherit')).toBe(true);
  expect(jobs.prelive.with['production-writes']).toBeUndefined();
});

test('the called workflow checks out the suite at the commit the caller pinned, and says so when it cannot', () => {
  const checkout = step('actions/checkout') as Step & { with: Yaml };
  expect(checkout.with).toMatchObject({
    repository: '${{ job.workflow_repository }}',
    ref: '${{ job.workflow_sha }}',
    'persist-credentials': false,
  });
  const check = step('Check the call');
  expect(suiteJob.steps.indexOf(check)).toBeLessThan(suiteJob.steps.indexOf(checkout));
  test.skip(!hasBash, 'bash is needed to run the check');
  const run = (env: Record<string, string>) =>
    spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', check.run!], {
      env: { PATH: process.env.PATH, ENVIRONMENT: 'prelive', WRITES: 'false', ...env },
      encoding: 'utf8',
    });
  const pinned = { SUITE_REPOSITORY: 'org/suite', SUITE_SHA: 'a'.repeat(40) };
  expect(run(pinned).status).toBe(0);
  expect(run({ ...pinned, SUITE_SHA: '' }).stdout).toMatch(/::error::job\.workflow_sha is empty/);
  expect(run({ ...pinned, ENVIRONMENT: 'staging' }).status).not.toBe(0);
  expect(run({ ...pinned, WRITES: 'true' }).stdout).toMatch(/::error::production-writes is for production only/);
});

test('one concurrency group per environment, repository-wide, that never cancels a running job', () => {
  expect(suiteJob.concurrency).toEqual({
    group: 'contract-session-${{ inputs.environment }}',
    'cancel-in-progress': false,
  });
  for (const f of ['suite', 'contract', 'caller'] as const) expect(workflow(f).concurrency, files[f]).toBeUndefined();
  const selfcheck = workflow('selfcheck').jobs.selfcheck.concurrency;
  expect(selfcheck.group).toContain('github.ref');
  expect(selfcheck['cancel-in-progress']).toBe("${{ github.event_name == 'pull_request' }}");
});

test('production writes only in the reviewed production-writes environment, checked before anything runs', () => {
  expect(suiteJob.environment).toBe(
    "${{ inputs.production-writes && 'production-writes' || format('contract-{0}', inputs.environment) }}",
  );
  expect(text('suite').match(/PRODUCTION_ALLOW_WRITES:/g)).toHaveLength(1);
  expect(step('Run the contract suite').env!.PRODUCTION_ALLOW_WRITES).toBe('${{ inputs.production-writes }}');
  expect(step('Check the call').run).toContain('required_reviewers');
  expect(suiteJob.permissions).toEqual({ contents: 'read', actions: 'read' });
  expect(workflow('caller').jobs.production.with['production-writes']).toBe('${{ inputs.production-writes || false }}');
});

test('Node 24 everywhere (engines keeps 20.18.1+), no browser install, artifacts kept even on failure', () => {
  const engines: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines.node;
  expect(engines).toMatch(/\^20\.18\.1/);
  for (const job of [suiteJob, workflow('selfcheck').jobs.selfcheck]) {
    const setup = job.steps.find((s) => String(s.uses).startsWith('actions/setup-node')) as Step & { with: Yaml };
    expect(String(setup.with['node-version'])).toBe('24');
    const upload = job.steps.find((s) => String(s.uses).startsWith('actions/upload-artifact'))!;
    expect(upload.if).toContain('always()');
  }
  for (const f of Object.keys(files) as (keyof typeof files)[]) expect(text(f)).not.toMatch(/playwright\s+install/);
  const uploaded = (step('actions/upload-artifact') as Step & { with: Yaml }).with.path;
  for (const f of ['playwright-report', 'contract-summary.md', 'junit.xml', 'created-groups.json'])
    expect(uploaded).toContain(f);
});

test('secrets: the suite variables, the write token only in the session step, no token in the suite step, none pasted', () => {
  const code = text('suite')
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  const known = ['prelive', 'production'].flatMap((e) =>
    Object.keys(environmentVariables).map((k) => `${e.toUpperCase()}_${k}`),
  );
  const secrets = new Set([...code.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]));
  expect([...secrets].filter((s) => !known.includes(s))).toEqual(['SUITE_READ_TOKEN', 'SECRETS_WRITE_TOKEN']);
  expect(known.filter((k) => !secrets.has(k))).toEqual([]);
  const session = step('Open the session');
  expect(session.run).toMatch(
    /^npx tsx tools\/rotate-refresh-token\.ts "\$ENVIRONMENT" --repo "\$REPO" --github-environment/,
  );
  expect(session.env!.GH_TOKEN).toBe('${{ secrets.SECRETS_WRITE_TOKEN }}');
  expect(suiteJob.steps.indexOf(session)).toBeLessThan(suiteJob.steps.indexOf(step('Run the contract suite')));
  // The suite gets its tokens from the session step ($GITHUB_ENV): a spent refresh token never reaches it.
  const suiteEnv = Object.keys(step('Run the contract suite').env!);
  expect(suiteEnv.filter((k) => /TOKEN|SECRET/.test(k))).toEqual([]);
  // Values reach scripts through env:, never as ${{ }} inside `run` (script injection).
  for (const f of Object.keys(files) as (keyof typeof files)[])
    for (const job of Object.values(workflow(f).jobs))
      for (const s of job.steps ?? []) expect(String(s.run ?? ''), `${files[f]}: ${s.name}`).not.toMatch(/\$\{\{/);
});

// ---- the token step's script against the reference API --------------------------------------------

const CLIENT_ID = 'ci-rotation-client';
const CLIENT_SECRET = 'ci-rotation-secret-8d1e5b';
const REDIRECT = 'http://127.0.0.1:1/callback';
const FAKE_GH = `#!/usr/bin/env bash
n=$(find "$GH_LOG" -name '*.argv' | wc -l)
printf '%s\\0' "$@" > "$GH_LOG/$n.argv"
cat > "$GH_LOG/$n.stdin"
if [ "$1 $2" = "secret set" ] && [ -n "$GH_FAIL_SET" ]; then echo "HTTP 403: Resource not accessible by integration" >&2; exit 1; fi
`;

type Gh = { argv: string[]; stdin: string };
function fakeGh() {
  const dir = tempDir('fake-gh');
  const log = path.join(dir, 'log');
  fs.mkdirSync(log);
  fs.writeFileSync(path.join(dir, 'gh'), FAKE_GH, { mode: 0o755 });
  const calls = (): Gh[] =>
    fs
      .readdirSync(log)
      .filter((f) => f.endsWith('.argv'))
      .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
      .map((f) => ({
        argv: fs.readFileSync(path.join(log, f), 'utf8').split('\0').slice(0, -1),
        stdin: fs.readFileSync(path.join(log, f.replace('.argv', '.stdin')), 'utf8'),
      }));
  return { path: `${dir}${path.delimiter}${process.env.PATH}`, log, calls };
}

/** A refresh token as `npm run login` gets it: the authorization-code flow with PKCE, in two requests. */
async function loginRefreshToken(origin: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL('/oauth2/auth', origin);
  const query = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    scope: 'openid offline_access room',
    state: randomBytes(16).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(query)) auth.searchParams.set(k, v);
  const consent = await fetch(auth, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const answer = await exchange(origin, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  return answer.body.refresh_token;
}

async function exchange(origin: string, form: Record<string, string>) {
  const r = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}

const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const SCRIPT = path.join(ROOT, 'tools', 'rotate-refresh-token.ts');
const ARGS = ['prelive', '--repo', 'example-org/example-repo', '--github-environment', 'contract-prelive'];

function runScript(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TSX, SCRIPT, ...ARGS], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let [stdout, stderr] = ['', ''];
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function inProcess(env: Record<string, string>) {
  const out: string[] = [];
  const code = await rotateRefreshToken(ARGS, { env, out: (l) => out.push(l) });
  return { code, stdout: `${out.join('\n')}\n`, stderr: '' };
}

test.describe('the token step', () => {
  let api: { origin: string; close: () => Promise<void>; issued: string[] };
  test.beforeAll(async () => {
    const issued: string[] = [];
    const server = createReferenceApi({
      clients: { [CLIENT_ID]: { secret: CLIENT_SECRET, redirectUris: [REDIRECT] } },
      onTokenIssued: (t) => issued.push(t),
    });
    api = { ...(await listen(server)), issued };
  });
  test.afterAll(async () => api?.close());

  const baseEnv = (gh: ReturnType<typeof fakeGh>, refreshToken: string, githubEnv: string) => ({
    PATH: gh.path,
    HOME: process.env.HOME ?? '',
    GH_LOG: gh.log,
    GH_TOKEN: 'fake-write-token',
    GITHUB_ENV: githubEnv,
    QR_DOTENV: 'off',
    PRELIVE_CLIENT_ID: CLIENT_ID,
    PRELIVE_CLIENT_SECRET: CLIENT_SECRET,
    PRELIVE_OAUTH_BASE_URL: api.origin,
    PRELIVE_REFRESH_TOKEN: refreshToken,
    // What the workflow passes for secrets that are not set.
    PRELIVE_ACCESS_TOKEN: '',
    PRELIVE_USER_ID: '',
    PRODUCTION_OAUTH_BASE_URL: '',
    QR_WORKERS: '',
  });

  test('twice in a row: each run exchanges the stored token and stores the next one through stdin, masked first', async () => {
    const gh = fakeGh();
    let stored = await loginRefreshToken(api.origin);
    const spent: string[] = [];
    for (const round of [1, 2]) {
      const githubEnv = path.join(tempDir('github-env'), 'env');
      const calls = gh.calls().length;
      // The first round through the command line the workflow runs, the second in-process (cheaper).
      const run =
        round === 1 ? await runScript(baseEnv(gh, stored, githubEnv)) : await inProcess(baseEnv(gh, stored, githubEnv));
      expect(run.code, `round ${round}: ${run.stdout}${run.stderr}`).toBe(0);
      const [probe, set] = gh.calls().slice(calls);
      const target = ['--repo', 'example-org/example-repo', '--env', 'contract-prelive'];
      expect(probe.argv).toEqual(['secret', 'list', ...target]);
      expect(set.argv).toEqual(['secret', 'set', 'PRELIVE_REFRESH_TOKEN', ...target]);
      const next = set.stdin;
      expect(next).toMatch(/^rt_\S+$/);
      expect(api.issued).toContain(next);
      expect(next).not.toBe(stored);
      spent.push(stored);
      // Masked before anything else is printed; the value only on stdin, never in argv, stderr or a message.
      const lines = run.stdout.split('\n');
      expect(lines.slice(0, 2)).toEqual([expect.stringMatching(/^::add-mask::ey/), `::add-mask::${next}`]);
      const access = lines[0].slice('::add-mask::'.length);
      expect(lines.slice(2).join('\n') + run.stderr).not.toContain(next);
      expect(lines.slice(2).join('\n') + run.stderr).not.toContain(access);
      expect(
        gh
          .calls()
          .flatMap((c) => c.argv)
          .join(' '),
      ).not.toContain(next);
      // The access token reaches the suite through $GITHUB_ENV; the refresh token does not.
      const handed = fs.readFileSync(githubEnv, 'utf8');
      expect(handed).toMatch(new RegExp(`^PRELIVE_ACCESS_TOKEN<<(EOF_[0-9a-f]+)\\n${access}\\n\\1\\n$`));
      stored = next;
    }
    // Rotation seen by the server: every spent token is refused, the stored one is live.
    for (const token of spent)
      expect((await exchange(api.origin, { grant_type: 'refresh_token', refresh_token: token })).body.error).toBe(
        'invalid_grant',
      );
    expect((await exchange(api.origin, { grant_type: 'refresh_token', refresh_token: stored })).status).toBe(200);
  });

  test('fails loudly: a failed write-back after the exchange, a spent token, and gh without access before spending', async () => {
    const gh = fakeGh();
    const run = async (env: Record<string, string>) => {
      const r = await inProcess(env);
      return { code: r.code, out: r.stdout };
    };
    const token = await loginRefreshToken(api.origin);
    const failed = await run({ ...baseEnv(gh, token, ''), GH_FAIL_SET: '1' });
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(
      /::error::The rotated PRELIVE_REFRESH_TOKEN could not be written back .*HTTP 403.*invalid_grant/,
    );
    const lost = gh.calls().at(-1)!.stdin;
    expect(failed.out.split('\n').filter((l) => l.includes(lost))).toEqual([`::add-mask::${lost}`]);

    const again = await run(baseEnv(gh, token, ''));
    expect(again.out).toMatch(
      /::error::The prelive token endpoint refused the refresh token: invalid_grant\. .*npm run login/,
    );

    const before = api.issued.length;
    const noAccess = await run({ ...baseEnv(gh, lost, ''), PATH: '/nonexistent' });
    expect(noAccess.out).toMatch(
      /::error::gh cannot read the secrets of the GitHub environment contract-prelive .*nothing was exchanged/,
    );
    const noToken = await run({ ...baseEnv(gh, lost, ''), GH_TOKEN: '' });
    expect(noToken.out).toMatch(/::error::GH_TOKEN is empty/);
    expect(api.issued.length, 'nothing was exchanged').toBe(before);
    expect((await run({ ...baseEnv(gh, '', ''), PRELIVE_REFRESH_TOKEN: '' })).out).toMatch(/has no user session/);
  });
});
