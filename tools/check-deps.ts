/**
 * The folders' import rules, enforced (`npm run lint`). Each source folder declares what it may
 * import in a `DEPS.list`, in the style of Playwright's (microsoft/playwright utils/check_deps.js):
 *
 *   # a comment
 *   [*]                    every module the list governs may import...
 *   ../contract/           ...the modules directly in that folder
 *   [global-setup.ts]      this module (a path from the list's folder) may also import...
 *   ../../reference-api/server.ts   ...this one module
 *
 * An entry is a module (`x.ts`), the modules directly in a folder (`dir/`), a folder and everything
 * below it (`dir/**`), or anything (`***`). A module is governed by the DEPS.list of its folder or
 * the nearest one above it; a module may always import from its own folder. What is not listed is
 * forbidden, and a module no list governs is an error.
 *
 * Edges are read from every .ts/.js module (.mts, .cts, .mjs, .cjs too) with a TypeScript parser
 * (oxc-parser): static `import` (types included), `export ... from`, `import x = require()`,
 * `require('...')`, `import('...')` and `typeof import('...')`. Only the project's own modules are checked (relative specifiers); npm
 * packages and node built-ins are not. A specifier computed at run time is no edge (how the fault
 * matrix plugs its multiplier into the harness).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseSync } from 'oxc-parser';

const ROOT = path.resolve(__dirname, '..');
const SKIPPED = new Set(['node_modules', '.git', '.auth']);
const SOURCE = /\.[cm]?[jt]s$/;
/** Output folders (reports, results) hold no source: skipped like git ignores them. */
const OUTPUT = /(^|\/)(test-results|playwright-report|selfcheck-results|blob-report)$/;

type Rules = { dir: string; file: string; sections: Map<string, string[]> };

function sourceFiles(root: string, dir = root): string[] {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  return entries.flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory())
      return SKIPPED.has(e.name) || OUTPUT.test(path.relative(root, full)) ? [] : sourceFiles(root, full);
    return SOURCE.test(e.name) ? [full] : [];
  });
}

/** A DEPS.list's sections, each entry an absolute path (a trailing `/` or `/**` kept), or `***`. */
function readRules(root: string, file: string): Rules {
  const dir = path.dirname(file);
  const sections = new Map<string, string[]>();
  let section: string[] | undefined;
  for (const [i, raw] of fs.readFileSync(file, 'utf8').split('\n').entries()) {
    const line = raw.trim();
    const where = `${path.relative(root, file)}:${i + 1}`;
    if (!line || line.startsWith('#')) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      if (header[1] !== '*' && !fs.existsSync(path.join(dir, header[1])))
        throw new Error(`${where}: [${header[1]}] names no module`);
      section = sections.get(header[1]) ?? [];
      sections.set(header[1], section);
    } else if (!section) throw new Error(`${where}: an entry before any [section]`);
    else if (line === '***') section.push(line);
    else {
      const target = path.resolve(dir, line.replace(/\/\*\*$/, ''));
      if (!fs.existsSync(target)) throw new Error(`${where}: ${line} names nothing`);
      section.push(line.endsWith('/**') ? `${target}/**` : line.endsWith('/') ? `${target}/` : target);
    }
  }
  return { dir, file, sections };
}

function allowed(from: string, to: string, rules: Rules): boolean {
  if (path.dirname(from) === path.dirname(to)) return true;
  const entries = [...(rules.sections.get('*') ?? []), ...(rules.sections.get(path.relative(rules.dir, from)) ?? [])];
  return entries.some(
    (e) =>
      e === '***' ||
      e === to ||
      (e.endsWith('/**') && to.startsWith(e.slice(0, -2))) ||
      (e.endsWith('/') && path.dirname(to) === e.slice(0, -1)),
  );
}

/** Every module specifier written as a string in the source, with its offset. */
function specifiers(file: string, source: string): { value: string; start: number }[] {
  const parsed = parseSync(file, source);
  if (parsed.errors.length) throw new Error(`${file}: ${parsed.errors[0].message}`);
  const found: { value: string; start: number }[] = [];
  const literal = (n: unknown) => {
    const node = n as { type?: string; value?: unknown; start: number } | null;
    if (node?.type === 'Literal' && typeof node.value === 'string')
      found.push({ value: node.value, start: node.start });
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown> & { type?: string };
    switch (n.type) {
      case 'ImportDeclaration':
      case 'ExportNamedDeclaration':
      case 'ExportAllDeclaration':
      case 'ImportExpression':
      case 'TSImportType':
        literal(n.source);
        break;
      case 'TSExternalModuleReference':
        literal(n.expression);
        break;
      case 'CallExpression': {
        const callee = n.callee as { type: string; name?: string };
        if (callee.type === 'Identifier' && callee.name === 'require') literal((n.arguments as unknown[])[0]);
        break;
      }
    }
    for (const [key, value] of Object.entries(n))
      if (key !== 'type' && value && typeof value === 'object') visit(value);
  };
  visit(parsed.program);
  return found;
}

function resolve(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, ...['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].map((x) => base + x)];
  // `./x.js` names ./x.ts in TypeScript's node resolution.
  if (/\.[cm]?js$/.test(base)) candidates.push(base.replace(/js$/, 'ts'));
  candidates.push(path.join(base, 'index.ts'), path.join(base, 'index.js'));
  return candidates.find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
}

export function checkDeps(root = ROOT) {
  const cache = new Map<string, Rules | undefined>();
  /** The DEPS.list of a folder or the nearest one above it, up to the root. */
  const rulesFor = (dir: string): Rules | undefined => {
    if (!cache.has(dir)) {
      const file = path.join(dir, 'DEPS.list');
      const parent = dir === root || !dir.startsWith(root) ? undefined : path.dirname(dir);
      cache.set(dir, fs.existsSync(file) ? readRules(root, file) : parent ? rulesFor(parent) : undefined);
    }
    return cache.get(dir);
  };
  const files = sourceFiles(root);
  const problems: string[] = [];
  let edges = 0;
  for (const file of files) {
    const rel = path.relative(root, file);
    const rules = rulesFor(path.dirname(file));
    const source = fs.readFileSync(file, 'utf8');
    for (const { value, start } of specifiers(file, source)) {
      if (!value.startsWith('.')) continue;
      const line = source.slice(0, start).split('\n').length;
      const target = resolve(file, value);
      if (!target) {
        problems.push(`${rel}:${line}: '${value}' names no module`);
        continue;
      }
      edges++;
      if (!rules)
        problems.push(`${rel}:${line}: no DEPS.list governs ${path.dirname(rel)}/ (add one saying what it may import)`);
      else if (!allowed(file, target, rules))
        problems.push(
          `${rel}:${line}: may not import ${path.relative(root, target)} (not allowed by ${path.relative(root, rules.file)})`,
        );
    }
  }
  return { modules: files.length, edges, problems: [...new Set(problems)] };
}

if (require.main === module) {
  const { modules, edges, problems } = checkDeps();
  for (const p of problems) console.error(`✘ ${p}`);
  console.log(
    `deps: ${modules} modules read, ${edges} imports between them checked against DEPS.list, ${problems.length} forbidden`,
  );
  if (!modules || problems.length) process.exitCode = 1;
}
