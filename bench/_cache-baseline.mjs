/**
 * The least a cached rerun can do, for bench/startup.ts: hash each image file, build each
 * sample's cache key (sha256 of the question's stable JSON, as Quorum does) and look it up
 * in the same SQLite database. Plain JavaScript, so no transpiler's start-up is counted.
 *
 *   node bench/_cache-baseline.mjs DB FOLDER SAMPLES   -> prints how many keys were found
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const [file, folder, samplesArg] = process.argv.slice(2);
const samples = Number(samplesArg ?? 1);
const db = new Database(file, { readonly: true });
const first = db.prepare('SELECT judge_id, prompt_hash, params FROM calls LIMIT 1').get();
const params = JSON.parse(first.params);
const sortedParams = JSON.stringify(Object.fromEntries(Object.keys(params).sort().map((k) => [k, params[k]])));
const lookup = db.prepare("SELECT id, status, parsed FROM calls WHERE cache_key = ? AND status = 'ok' ORDER BY id DESC LIMIT 1");
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
let found = 0;
for (const name of readdirSync(folder).sort()) {
  const image = sha256(readFileSync(join(folder, name)));
  for (let i = 0; i < samples; i++) {
    const key = sha256(`{"imageHashes":["${image}"],"judgeId":"${first.judge_id}","params":${sortedParams},"promptHash":"${first.prompt_hash}","sampleIndex":${i}}`);
    const row = lookup.get(key);
    if (row) {
      JSON.parse(row.parsed);
      found++;
    }
  }
}
process.stdout.write(`${found}\n`);
