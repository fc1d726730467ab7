/**
 * The documentation a newcomer reads stays true to the code: the README is short, names every
 * clause, and points to files that exist; every variable the settings declare is documented; the
 * known-deviations example is a valid entry; nothing refers to folders outside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { KnownDeviations } from '../fixtures/config/deviations';
import { environmentVariables, suiteVariables } from '../fixtures/config/settings';
import { clauseIds } from '../fixtures/contract/clauses';
import { expect, test } from './fixtures';

const ROOT = path.resolve(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const tracked = (dir: string): string[] =>
  fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (['node_modules', '.git', 'test-results', 'playwright-report', 'selfcheck-results', '.auth'].includes(e.name))
      return [];
    return e.isDirectory() ? tracked(rel) : [rel];
  });

test('the README is at most 200 lines and names every clause in its table', () => {
  const readme = read('README.md');
  expect(readme.split('\n').length).toBeLessThanOrEqual(200);
  expect(clauseIds.filter((id) => !readme.includes(`| \`${id}\` |`))).toEqual([]);
});

test('every docs/ file the README and the docs point to exists', () => {
  const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)];
  const pointed = docs.flatMap((d) => [...read(d).matchAll(/\bdocs\/[\w-]+\.md\b/g)].map((m) => m[0]));
  expect(pointed.length).toBeGreaterThan(5);
  expect([...new Set(pointed)].filter((p) => !fs.existsSync(path.join(ROOT, p)))).toEqual([]);
});

test('every variable the settings declare is documented in docs/configuration.md', () => {
  const doc = read('docs/configuration.md');
  const names = [...Object.keys(suiteVariables), ...Object.keys(environmentVariables).map((k) => `ENV_${k}`)];
  expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
});

test('the known-deviations example of the docs is a valid entry', () => {
  const example = read('docs/reading-results.md').match(/```json\n(\[[\s\S]*?\])\n```/)?.[1];
  expect(example, 'a ```json example in docs/reading-results.md').toBeTruthy();
  expect(KnownDeviations.parse(JSON.parse(example!))).toHaveLength(1);
});

test('nothing in the repository refers to the shared folder beside it, which a clone does not have', () => {
  const outside = ['..', 'shared'].join('/');
  const files = tracked('.').filter((f) => /\.(ts|md|json|jsonc|yml|sh)$|^\.ci\//.test(f) && f !== 'package-lock.json');
  expect(files.filter((f) => read(f).includes(outside))).toEqual([]);
});

/** The suite's own code: every message it prints comes from here. */
const sources = () =>
  ['fixtures', 'tests', 'tools', 'reference-api', 'bench']
    .flatMap(tracked)
    .concat('playwright.config.ts')
    .filter((f) => f.endsWith('.ts'));
const headings = (file: string) =>
  read(file)
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .map((l) => l.replace(/^#+\s*/, '').trim());

test("every README or docs pointer in the suite's messages resolves: the file, and the section it names", () => {
  const broken: string[] = [];
  for (const file of sources())
    for (const m of read(file).matchAll(/\b(README(?:\.md)?|docs\/[\w-]+\.md)(?:,? "([^"]+)")?/g)) {
      const target = m[1].startsWith('README') ? 'README.md' : m[1];
      if (!fs.existsSync(path.join(ROOT, target))) broken.push(`${file}: ${m[0]} (no such file)`);
      else if (
        m[2] &&
        !headings(target).some((h) => h === m[2] || h.startsWith(`${m[2]} `) || h.startsWith(`${m[2]}:`))
      )
        broken.push(`${file}: ${m[0]} (no such section)`);
    }
  expect(broken).toEqual([]);
});

test('no message of the suite ends in ".."', () => {
  const doubled = sources().flatMap((file) =>
    read(file)
      .split('\n')
      .filter((l) => /[\w)]\.\.[`'"]/.test(l))
      .map((l) => `${file}: ${l.trim()}`),
  );
  expect(doubled).toEqual([]);
});
