/**
 * docs/rehearsal.md, run as a newcomer runs it: every command of its ```sh blocks, in order, through
 * a shell, with what must be this test's own swapped in (the API's port, the login's port, the
 * rehearsal folder, the results folder; no browser opened: the test plays it, as login.spec.ts does).
 * The whole-suite run is left out: the go-live run before it takes the same path. A real prelive
 * login in .auth/ is left as it was, byte for byte.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runDrift } from '../tools/drift';
import { rotateRefreshToken } from '../tools/rotate-refresh-token';
import { expect, freePort, ROOT, tempDir, test } from './fixtures';

const PAGE = fs.readFileSync(path.join(ROOT, 'docs', 'rehearsal.md'), 'utf8');
const commands = [...PAGE.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n').filter(Boolean));

/** Every file under a folder with a hash of its content; {} when there is no such folder. */
function snapshot(dir: string): Record<string, string> {
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(
    fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const file = path.join(e.parentPath, e.name);
        return [path.relative(dir, file), createHash('sha256').update(fs.readFileSync(file)).digest('hex')];
      }),
  );
}

/** What could point a child at a real environment or tune it: never inherited. */
const NEVER =
  /^(PRELIVE|PRODUCTION|LOCAL|QR|PLAYWRIGHT|TEST_WORKER|TEST_PARALLEL|npm_)_?|^(CI|GITHUB_STEP_SUMMARY|BROWSER)$/;

test('the rehearsal page, followed word for word, ends in a GO through a login, then a NO-GO for its fault, and leaves .auth/ alone', async ({}, testInfo) => {
  expect(commands.length, 'the commands of docs/rehearsal.md').toBe(5);
  const realAuth = path.join(ROOT, '.auth');
  const before = snapshot(realAuth);
  const [apiPort, loginPort] = [await freePort(), await freePort()];
  const folder = path.join(tempDir('rehearsal'), 'rehearsal');
  const output = testInfo.outputPath('results');
  const own = (line: string) =>
    line
      .replaceAll('4010', String(apiPort))
      .replaceAll('.rehearsal/', `${folder}/`)
      .replace(/(--save-env \S+)/, `$1 --login-port ${loginPort}`)
      .replace(/(npm run login -- prelive)/, `$1 --port ${loginPort} --no-browser`);
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !NEVER.test(k))),
    QR_DOTENV: 'off',
    // One worker: the go-live run is a few tests, and a second worker process costs CPU the self-check shares.
    QR_WORKERS: '1',
    QR_OUTPUT_DIR: path.join(output, 'test-results'),
    QR_REPORT_DIR: path.join(output, 'playwright-report'),
    FORCE_COLOR: '0',
  };
  const started: ChildProcess[] = [];
  /** A command through a shell, in its own process group (so that it ends with all its children). */
  const shell = (line: string, onOutput?: (text: string) => void) => {
    const child = spawn('sh', ['-c', line], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let out = '';
    const take = (d: Buffer) => {
      out += d;
      onOutput?.(out);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    const done = new Promise<{ code: number | null; out: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, out })),
    );
    return { child, done };
  };

  try {
    const [startApi, login, smoke, full, fault] = commands.map(own);
    expect(full).toMatch(/npx playwright test --project=prelive$/);

    // 1. The API, until it says what it wrote and what comes next.
    let ready!: () => void;
    const listening = new Promise<void>((resolve) => (ready = resolve));
    const api = shell(startApi, (out) => /npm run login -- prelive/.test(out) && ready());
    await Promise.race([listening, api.done.then((r) => Promise.reject(new Error(`reference-api ended: ${r.out}`)))]);
    expect(fs.statSync(path.join(folder, 'env')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(folder, 'env'), 'utf8')).toContain(`QR_AUTH_DIR=${folder}/auth`);

    // 2. The login, the test playing the browser: the printed URL, the redirect, the callback page.
    let found!: (url: string) => void;
    const printed = new Promise<string>((resolve) => (found = resolve));
    const loggingIn = shell(login, (out) => {
      const url = out.split('\n').find((l) => /^http:\/\/\S+\/oauth2\/auth\?\S+$/.test(l));
      if (url) found(url);
    });
    const consent = await fetch(await printed, { redirect: 'manual' });
    const page = await fetch(consent.headers.get('location')!);
    expect(await page.text()).toMatch(/Logged in/);
    const loggedIn = await loggingIn.done;
    expect(loggedIn.code, loggedIn.out).toBe(0);
    expect(loggedIn.out).toContain(`${folder}/auth/prelive.refresh.json`);
    // Not asked to (--show-refresh-token), the login prints neither the token it stored nor the client secret.
    const { refreshToken } = JSON.parse(fs.readFileSync(path.join(folder, 'auth', 'prelive.refresh.json'), 'utf8'));
    const clientSecret = /^PRELIVE_CLIENT_SECRET=(.+)$/m.exec(fs.readFileSync(path.join(folder, 'env'), 'utf8'))![1];
    for (const secret of [refreshToken, clientSecret]) expect(loggedIn.out).not.toContain(secret);

    // 3. The run: GO.
    const go = await shell(smoke).done;
    expect(go.code, go.out).toBe(0);
    // The line names the origin it tested: a rehearsal can never pass for the real prelive.
    expect(go.out).toMatch(
      /^ {2}prelive: GO \(not a go-live GO[^)]*\) \[http:\/\/127\.0\.0\.1:\d+\/quran-reflect, rehearsal/m,
    );

    // 4. The fault: NO-GO, naming the broken promise.
    const broken = await shell(fault).done;
    expect(broken.code, broken.out.slice(-2000)).toBe(1);
    expect(broken.out).toMatch(
      /^ {2}prelive: NO-GO, 1 test\(s\) failed \(create-success\) \[http:\/\/127\.0\.0\.1:\d+\/fault\/success-false\/quran-reflect, rehearsal/m,
    );

    expect(snapshot(realAuth), 'the real .auth/ is as it was').toEqual(before);
    expect(Object.keys(snapshot(path.join(folder, 'auth')))).toContain('prelive.refresh.json');
  } finally {
    for (const child of started)
      if (child.exitCode === null && child.pid)
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
  }
});

test('the commands answer --help, and a wrong argument in one line naming it and the choices', async () => {
  // In-process where a command exports its main (a child costs about a second of CPU); one child for the wiring.
  const drift = await runDrift(['--help']);
  expect(drift.code).toBe(0);
  expect(drift.out.join('\n')).toMatch(
    /^Usage: npm run contract:drift[\s\S]*--definition <file\|URL>[\s\S]*--help +this text$/,
  );
  expect(await runDrift(['--definitoin', 'x'])).toEqual({
    code: 2,
    out: [],
    err: [
      'contract:drift: unknown option "--definitoin"; options: --definition, --expected, --environment, --timeout-ms, --notes, --help',
    ],
  });
  const said: string[] = [];
  expect(await rotateRefreshToken(['--help'], { env: {}, out: (l) => said.push(l) })).toBe(0);
  expect(said[0]).toMatch(/^Usage: tsx tools\/rotate-refresh-token\.ts <prelive\|production>/);

  const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [TSX, 'reference-api/main.ts', '--fault', 'sucess-false'], { cwd: ROOT });
  let [out, err] = ['', ''];
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect({ code, out }).toEqual({ code: 2, out: '' });
  expect(err).toMatch(
    /^reference-api: --fault "sucess-false" is not one of the \d+ known names; did you mean success-false\?.*\n$/,
  );
});
