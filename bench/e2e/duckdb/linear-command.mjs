// DuckDB's whole command for the cold benchmark (bench/e2e/cold.sh): y = x W^T + b over a Parquet input, one
// list_dot_product per output, the outputs as one FLOAT[] column, written as Parquet. Timed from outside, as a process.
//
//   node linear-command.mjs --input DIR --weights W.json --out DIR [--threads 2]
//
// The same query as linear.mjs's `array` variant (see there), run once.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
for (const name of ['input', 'weights', 'out']) {
  if (!args[name]) throw new Error(`Missing --${name}`);
}
const { out, weight, bias } = JSON.parse(readFileSync(args.weights, 'utf8'));
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const product = (o) => `list_dot_product(features, [${weight[o].join(', ')}]::FLOAT[]) + ${bias[o]}::FLOAT`;
const outputs = Array.from({ length: out }, (_, o) => product(o)).join(', ');

rmSync(args.out, { recursive: true, force: true });
const instance = await DuckDBInstance.create(':memory:', { threads: args.threads ?? '2' });
const connection = await instance.connect();
await connection.run(
  `COPY (SELECT id, [${outputs}]::FLOAT[] AS output FROM read_parquet(${quote(join(args.input, '*.parquet'))})) ` +
  `TO ${quote(args.out)} (FORMAT parquet, PER_THREAD_OUTPUT true)`);
