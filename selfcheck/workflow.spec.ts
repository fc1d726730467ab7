/**
 * The CI workflow is valid YAML with the structure the README promises: the triggers, a matrix of
 * environments and shards, blob reports merged by `merge-reports`, artifacts, npm ci and no
 * browser install, production writes only from the dispatch input, and only secrets the suite
 * knows (fixtures/env.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { parse } from 'yaml';
import { environments, variableHelp } from '../fixtures/env';

const file = path.join(__dirname, '..', '.github', 'workflows', 'contract.yml');
const text = fs.readFileSync(file, 'utf8');
const workflow = parse(text) as any;
const jobs = workflow.jobs as Record<string, any>;
const steps = (job: string) => jobs[job].steps as any[];
const runs = (job: string) => steps(job).map((s) => String(s.run ?? '')).join('\n');
const uses = (job: string) => steps(job).map((s) => String(s.uses ?? '')).filter(Boolean);

test('triggers: pull_request, a schedule, and workflow_dispatch with environment, grep and production writes', () => {
  const on = workflow.on;
  expect(Object.keys(on).sort()).toEqual(['pull_request', 'schedule', 'workflow_dispatch']);
  expect(on.schedule[0].cron).toMatch(/^(\S+\s+){4}\S+$/);
  const inputs = on.workflow_dispatch.inputs;
  expect(inputs.environment.options).toEqual(expect.arrayContaining(['prelive', 'production']));
  expect(inputs.grep.type).toBe('string');
  expect(inputs.allow_production_writes).toMatchObject({ type: 'boolean', default: false });
  expect(workflow.permissions).toEqual({ contents: 'read' });
});

test('the contract job: a matrix of environments and shards, one blob per shard, a concurrency group per environment', () => {
  const job = jobs.contract;
  expect(job.strategy['fail-fast']).toBe(false);
  const shards: number[] = job.strategy.matrix.shard;
  expect(shards.length).toBeGreaterThan(1);
  expect(shards).toEqual(shards.map((_, i) => i + 1));
  // The environments: prelive and production unless the dispatch input picks one.
  expect(job.strategy.matrix.environment).toContain('["prelive","production"]');
  expect(job.strategy.matrix.environment).toContain('inputs.environment');

  expect(job.concurrency.group).toContain('${{ matrix.environment }}');
  expect(job.concurrency['cancel-in-progress']).toBe(false);

  const run = runs('contract');
  expect(run).toContain(`--shard=\${{ matrix.shard }}/${shards.length}`);
  expect(run).toMatch(/npx playwright test/);
  expect(run).toContain('--project="$ENVIRONMENT"');
  expect(run).toContain('npm ci');
  const testStep = steps('contract').find((s) => String(s.run ?? '').includes('npx playwright test'));
  expect(testStep.env.QR_BLOB).toBe('1');
  expect(testStep.env.PLAYWRIGHT_BLOB_OUTPUT_NAME).toContain('${{ matrix.shard }}');
  // Production writes: from the dispatch input only.
  expect(testStep.env.PRODUCTION_ALLOW_WRITES).toMatch(/github\.event_name == 'workflow_dispatch' && inputs\.allow_production_writes/);
  expect(text.match(/PRODUCTION_ALLOW_WRITES:/g)).toHaveLength(1);
  // The grep reaches the shell through the environment, never pasted into the script.
  expect(testStep.env.GREP).toBe('${{ inputs.grep }}');
  expect(String(testStep.run)).not.toContain('inputs.');

  expect(uses('contract')).toEqual(expect.arrayContaining(['actions/checkout@v4', 'actions/setup-node@v4', 'actions/upload-artifact@v4']));
  const uploaded = steps('contract').filter((s) => String(s.uses).startsWith('actions/upload-artifact')).map((s) => String(s.with.path));
  expect(uploaded.join('\n')).toContain('blob-report');
  for (const f of ['contract-summary.md', 'junit.xml', 'created-groups.json']) expect(uploaded.join('\n')).toContain(f);
  // Uploads run also when the shard is cancelled or times out.
  for (const s of steps('contract').filter((x) => String(x.uses).startsWith('actions/upload-artifact'))) expect(String(s.if)).toContain('always()');
  // A refresh token only: shard 2 refuses to spend what shard 1 spends.
  expect(runs('contract')).toMatch(/ACCESS_TOKEN" \|\| true\)" \] && \[ -n "\$\(printenv "\$\{prefix\}REFRESH_TOKEN" \|\| true\)" \] && \[ "\$SHARD" != 1 \]/);
});

test('the report job merges the blobs and uploads the HTML report, JUnit, ledger and summary', () => {
  const job = jobs.report;
  expect(job.needs).toBe('contract');
  // Also after a cancellation (the ledger of what was created), and partial merges are no GO.
  expect(job.if).toContain('always()');
  const verdict = steps('report').find((s) => s.name === 'Verdict');
  expect(verdict.env.SHARDS).toBe('${{ needs.contract.result }}');
  expect(String(verdict.run)).toMatch(/if \[ "\$SHARDS" != success \]; then[\s\S]*exit 1/);
  const run = runs('report');
  expect(run).toMatch(/npx playwright merge-reports -c playwright\.config\.ts \S+/);
  expect(run).toContain('npm ci');
  expect(run).toContain('contract-verdict.json');
  const downloads = steps('report').filter((s) => String(s.uses).startsWith('actions/download-artifact'));
  expect(downloads.map((s) => s.with.pattern)).toEqual(expect.arrayContaining(['blob-*']));
  const uploaded = steps('report').filter((s) => String(s.uses).startsWith('actions/upload-artifact')).map((s) => String(s.with.path)).join('\n');
  for (const f of ['playwright-report', 'junit.xml', 'contract-summary.md', 'created-groups.json']) expect(uploaded).toContain(f);
});

test('no browser is installed, and every secret is a variable the suite reads', () => {
  // Outside comments, nothing installs browsers (the comments say never to).
  expect(text.split('\n').filter((l) => !l.trim().startsWith('#') && /playwright\s+install|install-deps/i.test(l))).toEqual([]);
  const secrets = [...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]);
  expect(secrets.length).toBeGreaterThan(0);
  const known = environments.filter((e) => e !== 'local').flatMap((e) => Object.keys(variableHelp).map((k) => `${e.toUpperCase()}_${k}`));
  expect([...new Set(secrets)].filter((s) => !known.includes(s))).toEqual([]);
  // Every variable of both live environments can be given.
  expect(known.filter((k) => !secrets.includes(k))).toEqual([]);
  // No expression is pasted into a shell script except matrix values (script injection).
  const pasted = [...runs('contract').matchAll(/\$\{\{\s*([^}]+?)\s*\}\}/g), ...runs('report').matchAll(/\$\{\{\s*([^}]+?)\s*\}\}/g)].map((m) => m[1]);
  expect(pasted.filter((e) => !/^matrix\.\w+$/.test(e))).toEqual([]);
});
