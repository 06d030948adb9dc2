# Sourced by run.sh and cold.sh: the JDK, a scratch folder, the build, the jars and Spark's JVM flags, and DuckDB.
# Expects $here (bench/e2e) and $root (the repository); sets java, JAVA_HOME, jdk_version, jdk_vendor, jdk_major,
# work, log, job_jar, bench_jar and jvm_flags, and defines load().
if [[ -n "${JAVA_HOME:-}" ]]; then
  java="$JAVA_HOME/bin/java"
else
  java="$(command -v java)"
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java")")")"
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH" # bin/spark-linear runs the `java` on PATH
jdk_version="$("$java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.version = /{print $2}')"
jdk_vendor="$("$java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.vm.vendor = /{print $2}')"
jdk_major="${jdk_version%%.*}"
work="$(mktemp -d)"
log="$work/log"
trap 'rm -rf "$work"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "JDK: $jdk_version ($JAVA_HOME)"
echo "Building the job jar and the bench module..."
(cd "$root" && mvn -B -q -ntp -DskipTests package -pl bench -am) >"$log" 2>&1 || {
  cat "$log" >&2
  exit 1
}
job_jar="$root/spark-job/target/spark-linear-job-0.1.0-SNAPSHOT-local.jar" # its manifest's Class-Path brings lib/
bench_jar="$root/bench/target/spark-linear-bench-0.1.0-SNAPSHOT.jar"
# Spark's JVM flags, from the one place the build keeps them (a -jar launch would read them from the manifest): the
# Add-Opens, the Vector API module and, on JDK 24+, Arrow's Netty allocator's use of sun.misc.Unsafe.
read -r -a jvm_flags <<<"$(sed -n 's:.*<spark.module.flags>\(.*\)</spark.module.flags>.*:\1:p' "$root/pom.xml")"

if [[ ! -d "$here/duckdb/node_modules/@duckdb/node-api" ]]; then
  echo "Installing @duckdb/node-api into bench/e2e/duckdb/..."
  (cd "$here/duckdb" && npm install --no-audit --no-fund --no-package-lock) >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
fi
