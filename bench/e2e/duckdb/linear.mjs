// The DuckDB contender: y = x W^T + b over the same Parquet files, one list_dot_product per output, written as Parquet.
//
//   node linear.mjs --input DIR --weights W.json --work DIR --results FILE --label 64x16 \
//       [--threads 2] [--warmup full|file|none] [--passes 1] [--variants floor,array,columns]
//
// Variants: floor (the same read, list_slice of the features to the output width, no compute), array (the outputs as
// one FLOAT[] column) and columns (one FLOAT column per output). Each gets a warm-up pass, then `passes` timed rounds
// (the best pass is recorded), as the Spark driver does. Appends `label, duckdb-<variant>, rows, seconds, rows/s,
// passes` lines to the results file.
import { DuckDBInstance } from '@duckdb/node-api';
import { appendFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
for (const name of ['input', 'weights', 'work', 'results', 'label']) {
  if (!args[name]) throw new Error(`Missing --${name}`);
}
const threads = args.threads ?? '2';
const warmup = args.warmup ?? 'full';
const passes = Number(args.passes ?? '1');
const variants = (args.variants ?? 'floor,array,columns').split(',');
const { in: inFeatures, out, weight, bias } = JSON.parse(readFileSync(args.weights, 'utf8'));

const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const files = readdirSync(args.input).filter((f) => f.endsWith('.parquet')).sort();
const allFiles = `read_parquet(${quote(join(args.input, '*.parquet'))})`;
const firstFile = `read_parquet(${quote(join(args.input, files[0]))})`;

// Float.toString in Java gives the shortest decimal that reads back as the same float32.
const product = (o) => `list_dot_product(features, [${weight[o].join(', ')}]::FLOAT[]) + ${bias[o]}::FLOAT`;
const outputs = (variant) => {
  const all = Array.from({ length: out }, (_, o) => o);
  switch (variant) {
    case 'floor':
      return out === inFeatures ? 'features AS output' : `features[1:${out}] AS output`;
    case 'array':
      return `[${all.map(product).join(', ')}]::FLOAT[] AS output`;
    case 'columns':
      return all.map((o) => `${product(o)} AS output_${o}`).join(', ');
    default:
      throw new Error(`Unknown variant: ${variant} (floor, array or columns)`);
  }
};

const instance = await DuckDBInstance.create(':memory:', { threads });
const connection = await instance.connect();
const version = (await (await connection.runAndReadAll('SELECT version()')).getRows())[0][0];
const count = async (source) => Number((await (await connection.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRows())[0][0]);
const rows = await count(allFiles);
console.log(`duckdb: ${version}, ${threads} threads, shape ${inFeatures}x${out}, ${rows} rows, warm-up ${warmup}, ${passes} timed pass(es)`);

const copy = async (variant, source) => {
  const target = join(args.work, `duckdb-${variant}`);
  rmSync(target, { recursive: true, force: true });
  const sql = `COPY (SELECT id, ${outputs(variant)} FROM ${source}) TO ${quote(target)} (FORMAT parquet, PER_THREAD_OUTPUT true)`;
  const start = process.hrtime.bigint();
  await connection.run(sql);
  return Number(process.hrtime.bigint() - start) / 1e9;
};

for (const variant of variants) {
  if (warmup === 'full') await copy(variant, allFiles);
  else if (warmup === 'file') await copy(variant, firstFile);
}
const seconds = Object.fromEntries(variants.map((v) => [v, []]));
for (let pass = 0; pass < passes; pass++) {
  for (const variant of variants) seconds[variant].push(await copy(variant, allFiles));
}
for (const variant of variants) {
  const best = Math.min(...seconds[variant]);
  const all = seconds[variant].map((s) => s.toFixed(3)).join(' ');
  console.log(`duckdb: ${args.label.padEnd(8)} duckdb-${variant.padEnd(8)} ${rows} rows ${best.toFixed(2)} s ${Math.round(rows / best)} rows/s (passes: ${all} s)`);
  appendFileSync(args.results, `${args.label}\tduckdb-${variant}\t${rows}\t${best.toFixed(3)}\t${Math.round(rows / best)}\t${all}\n`);
  rmSync(join(args.work, `duckdb-${variant}`), { recursive: true, force: true });
}
connection.closeSync?.();
