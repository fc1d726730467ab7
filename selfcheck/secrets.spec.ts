/**
 * No secret reaches anything a run leaves behind: the scanner (scan.ts) that proves it, proven
 * first, on a planted secret in every form and container it claims to open. The runs themselves
 * are scanned where they are made: a passing run (default-run.spec.ts), a failed create with its
 * kept trace and a refresh-token exchange (failed-create.spec.ts), a silent API configured with
 * every credential and credentials the token endpoint refuses (resilience.spec.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync, strToU8, zipSync } from 'fflate';
import { expect, tempDir, test } from './fixtures';
import { Scanner, type ScanReport, type Secret } from './scan';

const planted: Secret = { label: 'planted', value: 'planted/Secret+v4lue=0123456789' };
const zip = (name: string, data: Uint8Array) => Buffer.from(zipSync({ [name]: data }));
/** Where the planted secret hides, and where the scan must say it found it. */
const hidingPlaces: [string, (dir: string) => string, RegExp][] = [
  ['as is in a file', (d) => write(d, 'plain.txt', `x-auth-token: ${planted.value}`), /^plain\.txt \[plain\]$/],
  [
    'in a gzip body inside a zip (a trace)',
    (d) => write(d, 'trace.zip', zip('resources/abc', gzipSync(strToU8(`token ${planted.value}`)))),
    /^trace\.zip!resources\/abc!gunzip \[plain\]$/,
  ],
  [
    "in a zip in base64 in a zip in base64 (the HTML report's data)",
    (d) => {
      const trace = zip('trace.network', strToU8(`{"value":"${planted.value}"}`)).toString('base64');
      const data = zip('report.json', strToU8(JSON.stringify({ trace }))).toString('base64');
      return write(d, 'index.html', `<template>data:application/zip;base64,${data}</template>`);
    },
    /^index\.html!base64#0!report\.json!base64#0!trace\.network \[plain\]$/,
  ],
  [
    'in base64 after another value (a Basic header)',
    (d) => write(d, 'basic.txt', `Basic ${Buffer.from(`client-id:${planted.value}`).toString('base64')}`),
    /^basic\.txt \[base64 \(offset \d\)\]$/,
  ],
  [
    'URL-encoded',
    (d) => write(d, 'form.txt', `refresh_token=${encodeURIComponent(planted.value)}`),
    /^form\.txt \[url-encoded\]$/,
  ],
];
function write(dir: string, name: string, data: string | Buffer) {
  fs.writeFileSync(path.join(dir, name), data);
  return dir;
}
const found = (r: ScanReport, dir: string) => r.hits.map((h) => `${path.relative(dir, h.where)} [${h.form}]`);

test('the scanner finds nothing where there is nothing, and opens what it reads', () => {
  const dir = tempDir('clean');
  write(dir, 'trace.zip', zip('resources/abc', gzipSync(strToU8('nothing secret'))));
  const r = new Scanner([planted]).scanPath(dir).scanText('console', 'nothing here').report;
  expect([r.hits, r.unreadable, r.containers]).toEqual([[], [], { 'zip entry': 1, gzip: 1 }]);
});

for (const [where, plant, expected] of hidingPlaces)
  test(`the scanner finds a planted secret ${where}`, () => {
    const dir = plant(tempDir('plant'));
    const r = new Scanner([planted]).scanPath(dir).report;
    expect(found(r, dir)).toEqual([expect.stringMatching(expected)]);
  });

test('the scanner reads the console too', () => {
  const r = new Scanner([planted]).scanText('stdout', `refresh_token=${encodeURIComponent(planted.value)}`).report;
  expect(r.hits.map((h) => `${h.where} [${h.form}]`)).toEqual(['stdout [url-encoded]']);
});
