#!/usr/bin/env bash
# Cold benchmark: whole commands, as a user meets them (each one a fresh process: JVM or node start, Spark session,
# planning, read, compute, write, exit), timed as processes with /usr/bin/time; writes bench/e2e/results-cold-jdk<N>.md
# and .tsv.
#
#   bench/e2e/cold.sh                                  # 3 rows, 2,000,000 and 10,000,000 rows x 64 -> 16
#   COLD_SIZES="3 2000000" bench/e2e/cold.sh           # some sizes; the other sizes' figures of an earlier run stay
#   E2E_COLD_PASSES=3 E2E_DATA=/data/dir bench/e2e/cold.sh
#   COLD_CONTENDERS="spark-linear duckdb" bench/e2e/cold.sh   # some contenders (of the list below) at every size
#
# Inputs (made once, into bench/e2e/data/; existing `generate` datasets are taken from E2E_DATA when it has them):
#   seed         data/seed/features.parquet: the seed example's 3 rows x 4
#   N-duckdb     N rows made by DuckDB as a new user would (bench/e2e/duckdb/generate.mjs): `id` BIGINT, `features`
#                FLOAT[64], one file, DuckDB's default row groups
#   N-generate   N rows made by `bin/spark-linear generate --dim 64` (the warm benchmark's datasets: 2,000,000 rows in
#                8 files, 10,000,000 in 40)
# Commands, 64 -> 16 with the seeded layer of conf/random-64x16.yaml (init-seed 7), output to a temporary folder:
#   spark-linear        bin/spark-linear run conf/random-64x16.yaml --set input.path=IN --set output.path=OUT, as a
#                       user runs it: the class-data-sharing archive present (made by an untimed first run here), the
#                       default --show 10 preview; on `seed`, bin/spark-linear run conf/seed-example.yaml
#   spark-linear-nocds  the same with SPARK_LINEAR_CDS=0 (no archive)
#   spark-copy          Spark's minimal job: read the Parquet, write it back (dev.sparklinear.bench.SparkCopyJob)
#   spark-udf           a per-row Java UDF doing the same 64 -> 16, Spark's writer (dev.sparklinear.bench.RowUdfJob)
#   duckdb              DuckDB's command: node, 2 threads, one list_dot_product per output, FLOAT[] out, Parquet
#                       (bench/e2e/duckdb/linear-command.mjs)
# The two Spark peers start as their own JVMs with the flags bin/spark-linear gives the job (the build's Spark flag
# list, the Vector API module), the same session defaults (local[*], no web UI, loopback) and warnings-only logging;
# no class-data-sharing archive (a Spark user has none). Each input's contenders run interleaved, E2E_COLD_PASSES
# (default 2) rounds; the best wall time is kept. The inputs are read from the page cache after the first round: cold
# here means a cold process, not a cold disk. The load average is recorded before and after each size.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data_in="${E2E_DATA:-$here/data}"
data_out="$here/data"
sizes="${COLD_SIZES:-3 2000000 10000000}"
passes="${E2E_COLD_PASSES:-2}"

source "$here/setup.sh"
results="$here/results-cold-jdk${jdk_major}.md"
tsv="${results%.md}.tsv"
touch "$tsv"

# ---------------------------------------------------------------------------------------------------------- setup
peer=("$java" "${jvm_flags[@]}" "-Dlog4j2.configurationFile=$here/log4j2-warn.properties" -cp "$bench_jar:$job_jar")

if [[ ! -x /usr/bin/time ]]; then
  echo "/usr/bin/time not found: install Debian's 'time' package" >&2
  exit 1
fi
"${peer[@]}" dev.sparklinear.bench.RowUdfJob --weights-json "$work/weights.json" 64 16 7

# The user's first run makes the class-data-sharing archive (untimed here; it takes longer than a plain run).
jsa="${job_jar%.jar}.jsa"
if [[ ! -f "$jsa" || "$jsa" -ot "$job_jar" ]]; then
  echo "Making the class-data-sharing archive (bin/spark-linear's first run, untimed)..."
  "$root/bin/spark-linear" run "$root/conf/seed-example.yaml" --set "output.path=$work/out/first" >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
  rm -rf "$work/out/first"
fi
[[ -f "$jsa" ]] || echo "Note: no class-data-sharing archive was made ($jsa); spark-linear runs without one." >&2

# ------------------------------------------------------------------------------------------------------- inputs
# The warm benchmark's `generate` datasets (run.sh's names, files and seeds), found in E2E_DATA or made here.
generated() {
  local rows="$1" partitions seed name="rows$1-dim64"
  case "$rows" in
    2000000) partitions=8 seed=1 ;;
    10000000) partitions=40 seed=4 ;;
    *) partitions=$(((rows + 249999) / 250000)) seed=5 ;;
  esac
  for dir in "$data_in/$name" "$data_out/$name"; do
    [[ -f "$dir/_SUCCESS" ]] && echo "$dir" && return
  done
  echo "Generating $rows x 64 with bin/spark-linear generate into $data_out/$name..." >&2
  mkdir -p "$data_out"
  "$root/bin/spark-linear" generate --rows "$rows" --dim 64 --out "$data_out/$name" --partitions "$partitions" \
    --seed "$seed" --overwrite >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
  echo "$data_out/$name"
}

# The same shape made by DuckDB, as a new user would make it.
duckdb_made() {
  local rows="$1" name="duckdb-rows$1-dim64"
  for dir in "$data_in/$name" "$data_out/$name"; do
    [[ -f "$dir/_DONE" ]] && echo "$dir" && return
  done
  echo "Writing $rows x 64 with DuckDB into $data_out/$name..." >&2
  node "$here/duckdb/generate.mjs" --rows "$rows" --dim 64 --out "$data_out/$name" --threads 2 >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
  touch "$data_out/$name/_DONE"
  echo "$data_out/$name"
}

# --------------------------------------------------------------------------------------------------- the commands
# contender input -> runs it once as a whole process; prints "seconds peak-RSS-KiB"
run_once() {
  local contender="$1" input="$2" out="$work/out/$1" config="$root/conf/random-64x16.yaml"
  [[ "$input" == "$root/data/seed/features.parquet" ]] && config="$root/conf/seed-example.yaml"
  rm -rf "$out"
  local command=()
  case "$contender" in
    spark-linear | spark-linear-nocds)
      command=("$root/bin/spark-linear" run "$config" --set "input.path=$input" --set "output.path=$out") ;;
    spark-copy) command=("${peer[@]}" dev.sparklinear.bench.SparkCopyJob "$input" "$out") ;;
    spark-udf) command=("${peer[@]}" dev.sparklinear.bench.RowUdfJob "$input" "$out") ;;
    duckdb) command=(node "$here/duckdb/linear-command.mjs" --input "$input" --weights "$work/weights.json" --out "$out"
      --threads 2) ;;
  esac
  local cds=1
  [[ "$contender" == spark-linear-nocds ]] && cds=0
  SPARK_LINEAR_CDS="$cds" /usr/bin/time -f '%e %M' -o "$work/time" "${command[@]}" >"$log" 2>&1 || {
    echo "Failed: ${command[*]}" >&2
    tail -40 "$log" >&2
    exit 1
  }
  [[ -n "$(find "$out" -name '*.parquet' -print -quit)" ]] || {
    echo "No Parquet written by ${command[*]}" >&2
    exit 1
  }
  rm -rf "$out"
  cat "$work/time"
}

# label input rows contenders... -> nothing; runs are recorded in $work/passes
declare -a labels=()
declare -A input_of=() rows_of=() contenders_of=()
add_input() {
  local label="$1" input="$2" rows="$3"
  shift 3
  labels+=("$label")
  input_of[$label]="$input"
  rows_of[$label]="$rows"
  contenders_of[$label]="$*"
}

forget() { # drops the figures of earlier runs for these labels
  local keep="$work/keep"
  awk -F'\t' -v labels=" $* " 'index(labels, " " $1 " ") == 0' "$tsv" >"$keep" && cat "$keep" >"$tsv"
}

all="${COLD_CONTENDERS:-spark-linear spark-linear-nocds spark-copy spark-udf duckdb}"
for size in $sizes; do
  labels=()
  if [[ "$size" == 3 ]]; then
    add_input seed "$root/data/seed/features.parquet" 3 spark-linear spark-linear-nocds spark-copy
  fi
  add_input "$size-duckdb" "$(duckdb_made "$size")" "$size" $all
  add_input "$size-generate" "$(generated "$size")" "$size" $all
  forget "${labels[@]}"
  : >"$work/passes"
  before="$(load)"
  echo "== $(printf "%'d" "$size") rows: ${labels[*]} (load average $before)"
  for ((pass = 1; pass <= passes; pass++)); do
    for label in "${labels[@]}"; do
      for contender in ${contenders_of[$label]}; do
        read -r seconds rss <<<"$(run_once "$contender" "${input_of[$label]}")"
        printf '%s\t%s\t%s\t%s\n' "$label" "$contender" "$seconds" "$rss" >>"$work/passes"
        printf '   pass %d  %-16s %-20s %7.2f s  %5d MiB  (load %s)\n' "$pass" "$label" "$contender" "$seconds" \
          $((rss / 1024)) "$(load)"
      done
    done
  done
  after="$(load)"
  # label contender rows best-seconds rows/s every-pass peak-RSS-KiB (the largest)
  for label in "${labels[@]}"; do
    awk -F'\t' -v label="$label" -v rows="${rows_of[$label]}" '
      $1 == label { if (!($2 in best) || $3 < best[$2]) best[$2] = $3; all[$2] = all[$2] (all[$2] == "" ? "" : " ") $3
        if ($4 > rss[$2]) rss[$2] = $4; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
      END { for (i = 1; i <= k; i++) { c = order[i]
        printf "%s\t%s\t%d\t%.2f\t%.0f\t%s\t%d\n", label, c, rows, best[c], rows / best[c], all[c], rss[c] } }' \
      "$work/passes" >>"$tsv"
    printf '%s\t#meta\t%s\t%s\t%s\n' "$label" "$before" "$after" "$passes" >>"$tsv"
  done
  echo "   load average after: $after"
done

# ------------------------------------------------------------------------------------------------------- results
duckdb_version="$(cd "$here/duckdb" && node -e "console.log(require('./node_modules/@duckdb/node-api/package.json').version)")"
{
  echo "# Cold benchmark: whole commands, JDK $jdk_major"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, $(awk '/MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM"
  echo "- JDK: $jdk_version ($jdk_vendor); Spark 4.2.0, local[*]; DuckDB $duckdb_version (npm @duckdb/node-api), 2 threads"
  echo "- Process wall time (/usr/bin/time), best of the passes given; every pass in seconds in the last column."
  echo "  Contenders of one input ran interleaved, round after round. Inputs come from the page cache after the first round."
  echo "- Load average (1, 5, 15 min) before and after each input's rounds. One command keeps the 2 CPUs busy (a load"
  echo "  of about 2); more means other work shared the CPUs."
  echo "- Reproduce: \`bench/e2e/cold.sh\` (see its header for the contenders)."
  echo
  echo "| input | contender | rows | best s | rows/s | peak RSS MiB | every pass (s) |"
  echo "|---|---|---:|---:|---:|---:|---|"
  awk -F'\t' '$2 != "#meta" { printf "| %s | %s | %d | %.2f | %d | %d | %s |\n", $1, $2, $3, $4, $5, $7 / 1024, $6 }' "$tsv"
  echo
  echo "| input | load average before | after | passes |"
  echo "|---|---|---|---:|"
  awk -F'\t' '$2 == "#meta" { printf "| %s | %s | %s | %s |\n", $1, $3, $4, $5 }' "$tsv"
  echo
  echo "| target (same run) | value | target | |"
  echo "|---|---:|---|---|"
  awk -F'\t' '
    $2 != "#meta" { s[$1 "/" $2] = $4; r[$1 "/" $2] = $5 }
    function line(name, v, target, below) {
      printf "| %s | %.2f | %s | %s |\n", name, v, target == "" ? "-" : (below ? "&le; " : "&ge; ") target,
        target == "" ? "-" : ((below ? v <= target : v >= target) ? "met" : "missed")
    }
    END {
      if (("seed/spark-linear" in s) && ("seed/spark-copy" in s)) {
        line("seed example / Spark minimal job, wall time", s["seed/spark-linear"] / s["seed/spark-copy"], 0.75, 1)
        if ("seed/spark-linear-nocds" in s)
          line("(same without the archive)", s["seed/spark-linear-nocds"] / s["seed/spark-copy"], "", 1)
      }
      for (f = 1; f <= 2; f++) {
        form = f == 1 ? "duckdb" : "generate"
        l = "10000000-" form
        if ((l "/spark-linear" in r) && (l "/duckdb" in r)) {
          line("spark-linear / DuckDB rows/s, 10M, " form " input", r[l "/spark-linear"] / r[l "/duckdb"], 0.8, 0)
          if (l "/spark-linear-nocds" in r)
            line("(same without the archive)", r[l "/spark-linear-nocds"] / r[l "/duckdb"], "", 0)
        }
        l = "2000000-" form
        if ((l "/spark-linear" in r) && (l "/duckdb" in r))
          line("(spark-linear / DuckDB rows/s, 2M, " form " input)", r[l "/spark-linear"] / r[l "/duckdb"], "", 0)
      }
    }' "$tsv"
} >"$results"
echo
cat "$results"
echo
echo "Written to bench/e2e/$(basename "$results")"
