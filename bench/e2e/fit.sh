#!/usr/bin/env bash
# Fit benchmark: spark-linear fit against Spark MLlib's LinearRegression on the same data, in one JVM and one local[2]
# session (dev.sparklinear.bench.FitBenchmark), and writes bench/e2e/results-fit-jdk<N>.md.
#
#   bench/e2e/fit.sh                          # 2,000,000 x 64 -> 1, MSE, 10 epochs / iterations
#   FIT_ROWS=200000 bench/e2e/fit.sh          # a smaller run
#
# The data (bin/spark-linear generate --label: 64 uniform features and a noisy linear target) is made once into
# E2E_DATA (default bench/e2e/data, not committed) and reused. spark-linear: the fit command's job, SGD with momentum
# 0.9, lr 0.1, one pass over the data cached in executor memory per epoch. MLlib: L-BFGS, maxIter 10, standardization
# off, no regularization, tolerance 0, on the same rows cached as vectors. Both run twice; the second, warm run is
# timed. A pass is one Spark job over the data (MLlib's line search may take more than one per iteration).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${E2E_DATA:-$here/data}"
rows="${FIT_ROWS:-2000000}"
epochs="${FIT_EPOCHS:-10}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
jdk_major="$("$java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.version = /{print $2}' | cut -d. -f1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "Building the job jar and the bench module..."
(cd "$root" && mvn -B -q -ntp -DskipTests package -pl bench -am) >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
job_jar="$root/spark-job/target/spark-linear-job-0.1.0-SNAPSHOT-local.jar" # its manifest's Class-Path brings lib/
bench_jar="$root/bench/target/spark-linear-bench-0.1.0-SNAPSHOT.jar"
read -r -a jvm_flags <<<"$(sed -n 's:.*<spark.module.flags>\(.*\)</spark.module.flags>.*:\1:p' "$root/pom.xml")"

input="$data/fit-${rows}x64"
if [[ ! -d "$input" ]]; then
  "$root/bin/spark-linear" generate --rows "$rows" --dim 64 --label --out "$input"
fi

tsv="$here/results-fit-jdk${jdk_major}.tsv"
rm -f "$tsv"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
"$java" "${jvm_flags[@]}" -Dlog4j2.configurationFile="$here/log4j2-warn.properties" -cp "$bench_jar:$job_jar" \
  dev.sparklinear.bench.FitBenchmark --data "$input" --dim 64 --epochs "$epochs" --work "$work" --results "$tsv"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "# Fit benchmark, JDK $jdk_major"
  echo
  echo "$rows rows x 64 features -> 1, MSE, $epochs epochs (spark-linear) / iterations (MLlib), local[2], warm."
  echo "Load average before: $load_before; after: $load_after."
  echo
  echo "| contender | rows | passes | seconds | seconds per pass | final loss |"
  echo "|---|---:|---:|---:|---:|---:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6}' "$tsv"
} >"${tsv%.tsv}.md"
cat "${tsv%.tsv}.md"
