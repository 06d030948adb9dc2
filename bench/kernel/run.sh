#!/usr/bin/env bash
# Benchmarks the float32 kernels for y = x W^T + b against OpenBLAS sgemm, one thread, and writes
# bench/kernel/results-jdk<N>.txt.
#
#   bench/kernel/run.sh                                          # the JDK of JAVA_HOME, else the `java` on PATH
#   JAVA_HOME=/path/to/jdk-25 bench/kernel/run.sh
#
# Contenders per shape (4->3, 64->16 on 4096 rows; 256->256, 1024->1024 on 1024 rows):
#   vector    our Vector API kernel (Arrow block in and out; its heap copies included: x and y for wide layers, y
#             only for narrow ones, which read x in place)
#   scalar    our portable kernel
#   openblas  OpenBLAS sgemm via dev.ludovic.netlib, on heap arrays (bias preset, beta = 1)
#   copyOnly  only the tile copies between Arrow and the heap that the vector kernel makes
#   compensated  the kernel of module.precision: compensated (Dot2 in float32, scalar)
#
# OpenBLAS is Debian's (libopenblas0-pthread, installed here if missing and run as root); OPENBLAS_LIB overrides the
# library file. For the benchmark JVM only, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset (so OpenBLAS picks its
# kernel for this CPU) and OPENBLAS_NUM_THREADS=1; except where OpenBLAS does not know the CPU and falls back to a
# kernel without AVX-512 on a CPU that has it (0.3.21 takes Intel's model 207, Emerald Rapids, for a Prescott and runs
# 5-7x slower): then OPENBLAS_CORETYPE is set to its best AVX-512 kernel (Cooperlake with bf16, else SkylakeX), and the
# results say so. JMH: 2 forks, each 3 x 1 s warm-up and 4 x 1 s measurement
# (KERNEL_BENCH_JMH replaces these; two forks because one JVM's timings on a shared machine can sit 30% off the next
# one's); about 4 minutes. Extra arguments go to JMH (e.g. -p shape=64x16).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ -n "${JAVA_HOME:-}" ]]; then
  java="$JAVA_HOME/bin/java"
else
  java="$(command -v java)"
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java")")")"
  export JAVA_HOME
fi
jdk_version="$("$java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.version = /{print $2}')"
jdk_major="${jdk_version%%.*}"
results="$here/results-jdk${jdk_major}.txt"

find_openblas() {
  if [[ -n "${OPENBLAS_LIB:-}" ]]; then
    echo "$OPENBLAS_LIB"
    return
  fi
  ldconfig -p 2>/dev/null | awk '/libopenblas\.so\.0 /{print $NF; exit}'
}

lib="$(find_openblas)"
if [[ -z "$lib" ]]; then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "OpenBLAS not found: install Debian's libopenblas0-pthread (or set OPENBLAS_LIB)" >&2
    exit 1
  fi
  echo "Installing Debian's OpenBLAS (libopenblas0-pthread)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread >/dev/null
  lib="$(find_openblas)"
fi
lib="$(readlink -f "$lib")"
echo "JDK: $jdk_version ($JAVA_HOME)"
echo "OpenBLAS library: $lib"

csv="$(mktemp)"
log="$(mktemp)"
trap 'rm -f "$csv" "$log"' EXIT

echo "Building bench/target/benchmarks.jar..."
(cd "$root" && mvn -B -q -DskipTests package -pl bench -am) >"$log" 2>&1 || {
  cat "$log" >&2
  exit 1
}

# What OpenBLAS reports about itself, asked in a separate process under the same environment as the benchmark.
openblas_config="not reachable (no python3); the benchmark checks only that the library is mapped into its JVM"
coretype=()
query_openblas() {
  env -u OPENBLAS_L2_SIZE "$@" OPENBLAS_NUM_THREADS=1 python3 - "$lib" <<'EOF'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
for f in ("openblas_get_config", "openblas_get_corename"):
    getattr(lib, f).restype = ctypes.c_char_p
print("config: %s; core: %s" % (lib.openblas_get_config().decode(), lib.openblas_get_corename().decode()))
EOF
}
if command -v python3 >/dev/null; then
  openblas_config="$(query_openblas -u OPENBLAS_CORETYPE)"
  flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
  if [[ " $flags " == *" avx512f "* ]] && ! grep -qiE 'core: (skylakex|cooperlake|sapphirerapids)' <<<"$openblas_config"; then
    forced=SkylakeX
    [[ " $flags " == *" avx512_bf16 "* ]] && forced=Cooperlake
    coretype=(OPENBLAS_CORETYPE="$forced")
    detected="${openblas_config##*core: }"
    openblas_config="$(query_openblas OPENBLAS_CORETYPE="$forced") (forced: its own detection gave $detected on this AVX-512 CPU)"
  fi
fi
echo "OpenBLAS $openblas_config"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "Running JMH (load average before: $load_before)..."
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 "${coretype[@]}" \
  "$java" -jar "$root/bench/target/benchmarks.jar" \
  -jvmArgsPrepend "-Ddev.ludovic.netlib.blas.nativeLibPath=$lib" \
  ${KERNEL_BENCH_JMH:--f 2 -wi 3 -w 1 -i 4 -r 1} -t 1 -rf csv -rff "$csv" "$@" LinearKernelBenchmark >"$log" 2>&1 || {
  tail -50 "$log" >&2
  exit 1
}
if [[ "$(wc -l <"$csv")" -lt 2 ]] || grep -q '<failure>' "$log"; then
  echo "JMH reported a failure:" >&2
  grep -A 15 '<failure>' "$log" >&2 || tail -50 "$log" >&2
  exit 1
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
mapped="$(grep -m1 '^\[bench\]' "$log" | sed -e 's/.*mapped=\([^ ]*\).*/\1/' || true)"

{
  echo "Kernel benchmark: y = x W^T + b, float32, one thread"
  echo "JDK: $jdk_version"
  echo "CPU: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(nproc) CPUs"
  echo "OpenBLAS: $(basename "$lib"), mapped in the benchmark JVM: $(basename "${mapped:-?}"); $openblas_config"
  echo "Vector kernel: $(grep -m1 '^\[bench\]' "$log" | sed -e 's/.* vector=\(.*\) java=.*/\1/') (first shape)"
  echo "Load average before/after: $load_before / $load_after (other work on the machine inflates times)"
  echo
  awk -F',' '
    function unq(s) { gsub(/"/, "", s); return s }
    NR == 1 { next }
    {
      split(unq($1), b, "."); c = b[length(b)]
      score = unq($5) + 0; err = unq($6) + 0; shape = unq($9)
      split(shape, d, "x"); in_ = d[1]; out = d[2]
      rows = (in_ <= 64) ? 4096 : 1024
      t[shape, c] = score; e[shape, c] = err; r[shape] = rows; f[shape] = 2 * rows * in_ * out
      if (!(shape in seen)) { seen[shape] = 1; order[++n] = shape }
    }
    END {
      printf "%-10s %-11s %12s %10s %10s %12s\n", "shape", "kernel", "us/call", "+-99.9%", "GFLOP/s", "Mrows/s"
      for (i = 1; i <= n; i++) {
        s = order[i]
        split("vector scalar openblas copyOnly compensated", cs, " ")
        for (j = 1; j <= 5; j++) {
          c = cs[j]
          if (!((s, c) in t)) continue
          us = t[s, c]
          gf = (c == "copyOnly") ? "-" : sprintf("%.1f", f[s] / (us * 1e3))
          printf "%-10s %-11s %12.2f %10.2f %10s %12.1f\n", s, c, us, e[s, c], gf, r[s] / us
        }
      }
      print ""
      printf "%-10s %16s %16s %18s\n", "shape", "vector/openblas", "scalar/openblas", "copies/vector call"
      for (i = 1; i <= n; i++) {
        s = order[i]
        if (!((s, "openblas") in t)) continue
        vr = ((s, "vector") in t) ? sprintf("%.2fx", t[s, "openblas"] / t[s, "vector"]) : "-"
        sr = ((s, "scalar") in t) ? sprintf("%.2fx", t[s, "openblas"] / t[s, "scalar"]) : "-"
        cr = ((s, "copyOnly") in t && (s, "vector") in t) ? sprintf("%.0f%%", 100 * t[s, "copyOnly"] / t[s, "vector"]) : "-"
        printf "%-10s %16s %16s %18s\n", s, vr, sr, cr
      }
    }' "$csv"
} | tee "$results"
echo
echo "Written to bench/kernel/$(basename "$results")"
