#!/usr/bin/env bash
# End-to-end benchmark of spark-linear against its peers, Parquet in and Parquet out, and writes
# bench/e2e/results-jdk<N>.md.
#
#   bench/e2e/run.sh                                             # the JDK of JAVA_HOME, else the `java` on PATH
#   JAVA_HOME=/path/to/jdk-25 bench/e2e/run.sh
#   SHAPES=64x16 SKIP_SCALING=1 SKIP_MEMORY=1 bench/e2e/run.sh   # a subset
#
# Per shape (64x16: 2,000,000 rows; 256x256: 1,000,000 rows; 1024x1024: 200,000 rows), in one JVM and one local[2]
# Spark session (dev.sparklinear.bench.EndToEnd), each contender reads the same Parquet files and writes Parquet:
#   read             the read alone, nothing written (Spark's noop sink): the ceiling of anything reading through Spark
#   floor            the I/O floor: the same read, an output of the same width made without compute, array<float>
#   floor-columns    the same, one float column per output (64x16 only)
#   floor-columnar   the floor written by spark-linear's columnar Parquet writer: the floor of the job's own output path
#   udf              a per-row Java UDF doing the product: what a Spark user writes
#   mllib            array_to_vector, then a UDF calling DenseMatrix.multiply: the MLlib way
#   linear           spark-linear's ModuleTransformer, array<float> output
#   linear-columns   the same, one float column per output
#   linear-rows      the same as linear, taking Spark's rows instead of the columnar batches (64x16 only)
#   linear-two-level  linear writing two-level Parquet lists (the job's output.parquet-lists: two-level; the linear
#                    contenders otherwise write as the job does by default: the columnar writer, standard three-level
#                    lists, no dictionary)
#   linear-spark-writer, linear-columns-spark-writer  linear and linear-columns written by Spark's Parquet writer (the
#                    job's output.parquet-writer: spark)
#   linear-spark-reader  linear with Spark's reader decoding the feature column too (the job's
#                    input.parquet-reader: spark; linear decodes it with spark-linear's own page reader)
#   mlp              spark-linear's ModuleTransformer over Sequential(Linear(in, 256), ReLU(), Linear(256, out)),
#                    written as linear is (issue 13's head; only when named in E2E_CONTENDERS)
#   udf-mlp          a per-row Java UDF computing the same MLP (only when named in E2E_CONTENDERS)
# then DuckDB (npm @duckdb/node-api, 2 threads, installed into bench/e2e/duckdb/ here) on the same files, one
# list_dot_product per output: duckdb-floor, duckdb-array, duckdb-columns; and, for 64x16, the command line
# (bin/spark-linear run) in its own JVM. The command line runs on local[*]: local[2] only on a 2-CPU machine (a master
# set in its config would also turn Spark's UI on and bind the driver beyond loopback).
# Every contender gets a warm-up pass first (64x16: the whole input; the larger shapes: their first file), then timed
# passes (64x16: best of 3; others: 1). E2E_WARMUP (full, file, none), E2E_PASSES and E2E_CONTENDERS override these.
#
# Then (unless SKIP_SCALING=1) the scaling series: 64x16 at 1x, 5x and 10x of E2E_SCALE_BASE rows (default 500,000),
# floor and spark-linear; and (unless SKIP_MEMORY=1) 10,000,000 x 64 -> 16 through the command line with a 1 GiB heap
# (SPARK_LINEAR_JAVA_OPTS=-Xmx1g; in local mode the executor is the driver JVM), with its peak RSS from /usr/bin/time.
#
# The raw figures (label, contender, rows, best seconds, rows/s, every timed pass; and the load averages) go to
# results-jdk<N>.tsv as they come, and the .md is made from them. With E2E_APPEND=1 the parts run now replace theirs in
# an earlier run's .tsv and the others are kept: e.g. SHAPES=1024x1024 SKIP_SCALING=1 SKIP_MEMORY=1 E2E_APPEND=1.
# E2E_CONTENDERS runs only those Spark contenders (no DuckDB, no command line); with E2E_APPEND=1 they replace their
# own figures of that shape and the others are kept.
# Data is generated once (bin/spark-linear generate) into E2E_DATA (default bench/e2e/data, not committed) and reused.
# The machine's load average is recorded before and after each part: other work on the machine slows the contenders
# that run while it lasts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${E2E_DATA:-$here/data}"
shapes="${SHAPES:-64x16 256x256 1024x1024}"
scale_base="${E2E_SCALE_BASE:-500000}"

if [[ "$(nproc)" -ne 2 ]]; then
  echo "Note: $(nproc) CPUs; the Spark contenders and DuckDB use 2, the command line (local[*]) uses $(nproc)." >&2
fi
source "$here/setup.sh"
results="$here/results-jdk${jdk_major}.md"
tsv="${results%.md}.tsv"
if [[ "${E2E_APPEND:-}" == 1 ]]; then
  touch "$tsv"
else
  : >"$tsv"
fi
# Drops the figures of earlier runs for these labels (E2E_APPEND=1 keeps the other parts of an earlier run).
forget() {
  local labels=" $* "
  awk -F'\t' -v labels="$labels" 'index(labels, " " $1 " ") == 0' "$tsv" >"$work/keep" && cat "$work/keep" >"$tsv"
}

# Drops the figures of earlier runs for these contenders of one label, and the label's load line.
forget_contenders() {
  awk -F'\t' -v label="$1" -v contenders=",$2," \
    '!($1 == label && (index(contenders, "," $2 ",") > 0 || $2 == "#meta"))' "$tsv" >"$work/keep" && cat "$work/keep" >"$tsv"
}

# ---------------------------------------------------------------------------------------------------------- setup
# bin/spark-linear passes only the manifest's flags; on JDK 24+ Netty (under Arrow's allocator) also needs this one.
cli_opts=""
((jdk_major >= 24)) && cli_opts="--sun-misc-unsafe-memory-access=allow"
if [[ ! -x /usr/bin/time ]]; then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "/usr/bin/time not found: install Debian's 'time' package" >&2
    exit 1
  fi
  echo "Installing Debian's time (for the peak RSS)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi

# rows dim partitions seed -> the dataset folder, generated on first use
dataset() {
  local rows="$1" dim="$2" partitions="$3" seed="$4"
  local dir="$data/rows${rows}-dim${dim}"
  if [[ ! -f "$dir/_SUCCESS" ]]; then
    echo "Generating $rows x $dim into $dir..." >&2
    mkdir -p "$data"
    "$root/bin/spark-linear" generate --rows "$rows" --dim "$dim" --out "$dir" --partitions "$partitions" \
      --seed "$seed" --overwrite >"$log" 2>&1 || {
      cat "$log" >&2
      exit 1
    }
  fi
  echo "$dir"
}

end_to_end() { # EndToEnd arguments...
  "$java" "${jvm_flags[@]}" -cp "$bench_jar:$job_jar" dev.sparklinear.bench.EndToEnd --work "$work/out" \
    --results "$tsv" "$@" 2>"$log" || {
    tail -40 "$log" >&2
    exit 1
  }
}

# ---------------------------------------------------------------------------------------------------- the shapes
# The shapes' rows and files: files of about 64 MB, so that each is one split and the two cores stay busy.
declare -A rows_of=([64x16]=2000000 [256x256]=1000000 [1024x1024]=200000)
declare -A parts_of=([64x16]=8 [256x256]=16 [1024x1024]=12)
declare -A seed_of=([64x16]=1 [256x256]=2 [1024x1024]=3)

for shape in $shapes; do
  if [[ -z "${rows_of[$shape]:-}" ]]; then
    echo "Unknown shape: $shape (known: ${!rows_of[*]})" >&2
    exit 1
  fi
  in="${shape%x*}"
  input="$(dataset "${rows_of[$shape]}" "$in" "${parts_of[$shape]}" "${seed_of[$shape]}")"
  if [[ "$shape" == 64x16 ]]; then
    contenders="${E2E_CONTENDERS:-read,floor,floor-columns,floor-columnar,udf,mllib,linear,linear-columns,linear-rows,linear-two-level,linear-spark-writer,linear-columns-spark-writer}"
    warmup="${E2E_WARMUP:-full}"
    passes="${E2E_PASSES:-3}"
  else
    # The per-row peers last: a pass right after mllib's garbage (gigabytes of boxed vectors) ran up to 2.7x slower
    # than the same write later in the round.
    contenders="${E2E_CONTENDERS:-read,floor,floor-columnar,linear,linear-columns,linear-two-level,linear-spark-writer,udf,mllib}"
    warmup="${E2E_WARMUP:-file}"
    passes="${E2E_PASSES:-1}"
  fi
  if [[ -n "${E2E_CONTENDERS:-}" && "${E2E_APPEND:-}" == 1 ]]; then
    forget_contenders "$shape" "$contenders"
  else
    forget "$shape"
  fi
  before="$(load)"
  echo "== $shape: $(printf "%'d" "${rows_of[$shape]}") rows (load average $before)"
  end_to_end --shape "$shape" --contenders "$contenders" --warmup "$warmup" --passes "$passes" \
    --weights-json "$work/weights-$shape.json" "$shape=$input"
  if [[ -z "${E2E_CONTENDERS:-}" ]]; then
    node "$here/duckdb/linear.mjs" --input "$input" --weights "$work/weights-$shape.json" --work "$work/out" \
      --results "$tsv" --label "$shape" --threads 2 --warmup "$warmup" --passes "$passes"
  fi
  if [[ "$shape" == 64x16 && -z "${E2E_CONTENDERS:-}" ]]; then
    # The command line in its own JVM: the job's own summary (from reading the input to the committed output) and
    # the whole process (JVM start and Spark session included). A user's first run after a build makes the launcher's
    # class-data-sharing archive and takes much longer; that run is made here first, untimed, on the seed example.
    "$root/bin/spark-linear" run "$root/conf/seed-example.yaml" --set "output.path=$work/out/cli-first" \
      --set output.mode=overwrite >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    start="$(date +%s.%N)"
    SPARK_LINEAR_JAVA_OPTS="$cli_opts" "$root/bin/spark-linear" run "$root/conf/random-64x16.yaml" \
      --set "input.path=$input" --set "output.path=$work/out/cli" --show 0 >"$work/stdout" 2>"$log" || {
      cat "$work/stdout" "$log" >&2
      exit 1
    }
    process="$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')"
    summary="$(grep -m1 '^spark-linear: .* rows in' "$work/stdout")"
    echo "$summary"
    job_seconds="$(echo "$summary" | sed -e 's/.* blocks in \([0-9.]*\) s .*/\1/')"
    rows="${rows_of[$shape]}"
    for what in "cli-job $job_seconds" "cli-process $process"; do
      awk -v shape="$shape" -v what="${what% *}" -v rows="$rows" -v s="${what#* }" \
        'BEGIN { printf "%s\t%s\t%d\t%.3f\t%.0f\t%.3f\n", shape, what, rows, s, rows / s, s }' >>"$tsv"
    done
    rm -rf "$work/out/cli"
  fi
  printf '%s\t#meta\t%s\t%s\t%s\t%s\n' "$shape" "$before" "$(load)" "$warmup" "$passes" >>"$tsv"
done

# --------------------------------------------------------------------------------------------- scaling and memory
if [[ "${SKIP_SCALING:-}" != 1 || "${SKIP_MEMORY:-}" != 1 ]]; then
  # One 10,000,000-row dataset in 40 files of 250,000 rows; the scaling inputs are hard links to its first files.
  big="$(dataset 10000000 64 40 4)"
fi
if [[ "${SKIP_SCALING:-}" != 1 ]]; then
  scale_inputs=()
  for factor in 1 5 10; do
    n=$((scale_base * factor))
    files=$((n / 250000))
    if ((files < 1 || files > 40 || n % 250000 != 0)); then
      echo "E2E_SCALE_BASE must be a multiple of 250,000 and at most 1,000,000" >&2
      exit 1
    fi
    dir="$work/scale-${factor}x"
    mkdir -p "$dir"
    find "$big" -name 'part-*.parquet' | sort | sed -n "1,${files}p" | while read -r f; do ln "$f" "$dir/"; done # sed reads all: head would end the pipe early (SIGPIPE)
    scale_inputs+=("${factor}x=$dir")
  done
  forget 1x 5x 10x scaling
  before="$(load)"
  echo "== scaling: 64x16 at 1x, 5x, 10x of $(printf "%'d" "$scale_base") rows (load average $before)"
  end_to_end --shape 64x16 --contenders floor,linear --warmup full --passes 1 "${scale_inputs[@]}"
  printf 'scaling\t#meta\t%s\t%s\tfull\t1\n' "$before" "$(load)" >>"$tsv"
fi
if [[ "${SKIP_MEMORY:-}" != 1 ]]; then
  before="$(load)"
  echo "== 10,000,000 x 64 -> 16, command line, 1 GiB heap (load average $before)"
  SPARK_LINEAR_JAVA_OPTS="-Xmx1g $cli_opts" /usr/bin/time -v -o "$work/time.txt" "$root/bin/spark-linear" run \
    "$root/conf/random-64x16.yaml" --set "input.path=$big" --set "output.path=$work/out/cli-10m" --show 0 >"$work/stdout" 2>"$log" || {
    cat "$work/stdout" "$log" "$work/time.txt" >&2
    exit 1
  }
  summary="$(grep -m1 '^spark-linear: .* rows in' "$work/stdout")"
  echo "$summary"
  rss_kb="$(awk -F': ' '/Maximum resident set size/{print $2}' "$work/time.txt")"
  elapsed="$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$work/time.txt")"
  rows_out="$(find "$work/out/cli-10m" -name '_spark_linear.json' -exec sed -n 's/.*"rows_out" : \([0-9]*\).*/\1/p' {} \;)"
  echo "peak RSS: $((rss_kb / 1024)) MiB, elapsed $elapsed"
  forget memory
  printf 'memory\t#meta\t%s\t%s\t%s\t%s\t%s\t%s\n' "$before" "$(load)" "$rss_kb" "$elapsed" "${rows_out:-?}" \
    "${summary#spark-linear: }" >>"$tsv"
  rm -rf "$work/out/cli-10m"
fi

# ------------------------------------------------------------------------------------------------------- results
duckdb_version="$(cd "$here/duckdb" && node -e "console.log(require('./node_modules/@duckdb/node-api/package.json').version)")"

# shape label -> markdown: every contender's figures, then the ratios against their targets
render_shape() {
  local label="$1" udf_target="$2" duckdb_target="$3"
  awk -F'\t' -v label="$label" -v udf_target="$udf_target" -v duckdb_target="$duckdb_target" '
    $1 == label && $2 != "#meta" { r[$2] = $5; s[$2] = $4; p[$2] = $6; n = $3; order[++k] = $2 }
    function ratio(a, b, target,   v) {
      if (!(a in r) || !(b in r)) return
      v = r[a] / r[b]
      printf "| %s / %s | %.2fx | %s | %s |\n", a, b, v, target == "" ? "-" : "&ge; " target "x",
        target == "" ? "-" : (v >= target ? "met" : sprintf("missed by %.0f%%", 100 * (1 - v / target)))
    }
    END {
      print "| contender | rows/s | seconds | timed passes (s) |"
      print "|---|---:|---:|---|"
      for (i = 1; i <= k; i++) { c = order[i]; printf "| %s | %d | %.2f | %s |\n", c, r[c], s[c], p[c] }
      print ""
      print "| ratio (rows/s) | value | target | |"
      print "|---|---:|---|---|"
      ratio("linear", "floor", 0.9)
      ratio("linear-columns", "floor-columns", "")
      ratio("linear", "udf", udf_target)
      ratio("linear", "mllib", "")
      ratio("linear", "duckdb-array", duckdb_target)
      ratio("linear-columns", "duckdb-columns", duckdb_target)
      ratio("linear", "duckdb-columns", duckdb_target)
      ratio("linear", "floor-columnar", 0.9)
      ratio("linear", "linear-spark-writer", "")
      ratio("linear-columns", "linear-columns-spark-writer", "")
      ratio("linear-columns", "linear", "")
      ratio("duckdb-columns", "duckdb-array", "")
      ratio("linear", "linear-rows", "")
      ratio("linear", "linear-two-level", "")
      ratio("linear", "read", "")
      ratio("floor", "duckdb-floor", "")
      ratio("mlp", "linear", 0.8)
      ratio("mlp", "udf-mlp", 3)
      ratio("mlp", "floor", "")
    }' "$tsv"
}

{
  echo "# End-to-end benchmark, JDK $jdk_major"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs ($(grep -o -m1 'avx512f' /proc/cpuinfo || echo 'no AVX-512')), $(awk '/MemTotal/{printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM"
  echo "- JDK: $jdk_version ($jdk_vendor); Spark 4.2.0, local[2], UI off; DuckDB $duckdb_version (npm @duckdb/node-api), 2 threads"
  echo "- One JVM and one Spark session for the Spark contenders of a shape (default heap); the command line in its own JVM."
  echo "- Load average (1, 5, 15 min) is given before and after each part. The benchmark itself keeps the 2 CPUs busy"
  echo "  (a load of about 2-3); a load well above that means other work shared the CPUs, and figures are low by as much."
  echo "- Reproduce: \`JAVA_HOME=<a JDK $jdk_major> bench/e2e/run.sh\`."
  for shape in 64x16 256x256 1024x1024; do
    meta="$(awk -F'\t' -v s="$shape" '$1 == s && $2 == "#meta"' "$tsv")"
    [[ -z "$meta" ]] && continue
    IFS=$'\t' read -r _ _ before after warmup passes <<<"$meta"
    rows="${rows_of[$shape]}"
    in="${shape%x*}"
    out="${shape#*x}"
    case "$shape" in
      64x16) udf_target=1.25 duckdb_target=1.0 ;;
      256x256) udf_target=2 duckdb_target=2 ;;
      1024x1024) udf_target=5 duckdb_target=5 ;;
    esac
    echo
    echo "## $in → $out, $(printf "%'d" "$rows") rows"
    echo
    echo "Load average before: $before; after: $after. Warm-up: $warmup; best of $passes timed pass(es)."
    [[ "$shape" == 64x16 ]] && echo "cli-job: the command line's own summary (reading to committed output);" \
      "cli-process: the whole process, JVM start and Spark session included."
    echo
    render_shape "$shape" "$udf_target" "$duckdb_target"
  done
  meta="$(awk -F'\t' '$1 == "scaling" && $2 == "#meta"' "$tsv")"
  if [[ -n "$meta" ]]; then
    IFS=$'\t' read -r _ _ before after _ <<<"$meta"
    echo
    echo "## Scaling: 64 → 16 at 1×, 5× and 10× rows"
    echo
    echo "Load average before: $before; after: $after. Warm-up: the whole 1× input; one timed pass each."
    echo
    echo "| rows | contender | seconds | rows/s | seconds / (1× seconds × factor) |"
    echo "|---:|---|---:|---:|---:|"
    awk -F'\t' '$1 ~ /^[0-9]+x$/ {
        f = $1 + 0; if (f == 1) base[$2] = $4
        printf "| %d | %s | %.2f | %d | %.2f |\n", $3, $2, $4, $5, (base[$2] > 0 ? $4 / (base[$2] * f) : 0)
      }' "$tsv"
  fi
  meta="$(awk -F'\t' '$1 == "memory" && $2 == "#meta"' "$tsv")"
  if [[ -n "$meta" ]]; then
    IFS=$'\t' read -r _ _ before after rss_kb elapsed rows_out summary <<<"$meta"
    echo
    echo "## 10,000,000 × 64 → 16 with a 1 GiB heap"
    echo
    echo "Load average before: $before; after: $after."
    echo "\`SPARK_LINEAR_JAVA_OPTS=-Xmx1g bin/spark-linear run conf/random-64x16.yaml --set input.path=DATA\` (local[*]: $(nproc) cores)"
    echo
    echo "- Completed: $rows_out rows written. Summary: \`$summary\`"
    echo "- Peak RSS (/usr/bin/time): $((rss_kb / 1024)) MiB; process wall time $elapsed"
  fi
} >"$results"
echo
cat "$results"
echo
echo "Written to bench/e2e/$(basename "$results")"
