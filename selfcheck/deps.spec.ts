/**
 * The boundary check (tools/check-deps.ts, run by `npm run lint`) on a small tree of its own: every
 * way a module names another is an edge, the DEPS.list entries allow what they say and no more,
 * and a folder no list governs is an error.
 */

import fs from 'node:fs';
import path from 'node:path';
import { checkDeps } from '../tools/check-deps';
import { expect, tempDir, test } from './fixtures';

const write = (root: string, files: Record<string, string>) => {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
};

test('every kind of import is an edge, and only listed edges pass', () => {
  const root = tempDir('deps');
  write(root, {
    'app/DEPS.list': '# the app\n[*]\n../lib/\n\n[main.ts]\n../extra/one.ts\n',
    'app/main.ts': [
      "import type { A } from '../secret/a';",
      "export { b } from '../secret/b';",
      "export * from '../lib/ok';",
      "const c = require('../secret/c');",
      "const d = import('../secret/d');",
      "type E = typeof import('../secret/e');",
      "import F = require('../secret/f');",
      "import { one } from '../extra/one';",
      "import { two } from '../extra/two';",
      "import { sibling } from './sibling';",
      'const text = "import x from \'../secret/in-a-string\'";',
      '',
    ].join('\n'),
    'app/sibling.ts': "export const sibling = 1;\nimport { one } from '../extra/one';\n",
    'lib/DEPS.list': '[*]\n',
    'lib/ok.ts': 'export const ok = 1;\n',
    ...Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => [`secret/${n}.ts`, 'export {};\n'])),
    'extra/one.ts': 'export const one = 1;\n',
    'extra/two.ts': 'export const two = 2;\n',
    'loose/x.ts': "import { ok } from '../lib/ok';\n",
    'lib/script.mjs': "import { a } from '../secret/a.js';\n",
  });
  const { modules, edges, problems } = checkDeps(root);
  expect(modules).toBe(13);
  expect(edges).toBe(13);
  const forbidden = (line: number, target: string) =>
    `app/main.ts:${line}: may not import ${target} (not allowed by app/DEPS.list)`;
  expect(problems).toEqual([
    forbidden(1, 'secret/a.ts'),
    forbidden(2, 'secret/b.ts'),
    forbidden(4, 'secret/c.ts'),
    forbidden(5, 'secret/d.ts'),
    forbidden(6, 'secret/e.ts'),
    forbidden(7, 'secret/f.ts'),
    forbidden(9, 'extra/two.ts'),
    'app/sibling.ts:2: may not import extra/one.ts (not allowed by app/DEPS.list)',
    'lib/script.mjs:1: may not import secret/a.ts (not allowed by lib/DEPS.list)',
    'loose/x.ts:1: no DEPS.list governs loose/ (add one saying what it may import)',
  ]);
});

test('a DEPS.list entry that names nothing is an error, not a silent allowance', () => {
  const root = tempDir('deps');
  write(root, { 'app/DEPS.list': '[*]\n../lbi/\n', 'app/main.ts': 'export {};\n' });
  expect(() => checkDeps(root)).toThrow('app/DEPS.list:2: ../lbi/ names nothing');
});
