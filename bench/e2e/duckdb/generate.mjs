// Writes a Parquet input as a new user would make one with DuckDB: `id` BIGINT, `features` FLOAT[dim] of uniform
// random floats in [0, 1), DuckDB's default row groups and compression, one file `data.parquet` in the output folder.
//
//   node generate.mjs --rows 2000000 --dim 64 --out DIR [--threads 2] [--seed 0.5]
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
for (const name of ['rows', 'dim', 'out']) {
  if (!args[name]) throw new Error(`Missing --${name}`);
}
const rows = Number(args.rows);
const dim = Number(args.dim);
if (!Number.isInteger(rows) || rows < 1) throw new Error(`Invalid --rows: ${args.rows} (must be a positive integer)`);
if (!Number.isInteger(dim) || dim < 1) throw new Error(`Invalid --dim: ${args.dim} (must be a positive integer)`);

rmSync(args.out, { recursive: true, force: true });
mkdirSync(args.out, { recursive: true });
const file = join(args.out, 'data.parquet');
const instance = await DuckDBInstance.create(':memory:', { threads: args.threads ?? '2' });
const connection = await instance.connect();
await connection.run(`SELECT setseed(${Number(args.seed ?? '0.5')})`);
await connection.run(
  `COPY (SELECT i::BIGINT AS id, list_transform(range(${dim}), k -> random()::FLOAT)::FLOAT[${dim}] AS features ` +
  `FROM range(${rows}) t(i)) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
console.log(`duckdb: wrote ${rows} x ${dim} to ${file}`);
