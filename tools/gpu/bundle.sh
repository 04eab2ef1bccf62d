#!/usr/bin/env bash
# Builds a self-contained folder for GPU nodes that have a libtorch (e.g. a pip PyTorch) but no
# JDK and no network, and builds the native kernels there. docs/gpu.md is the guide.
#
# Usage (on a machine with JDK 17 and Maven, from the repository):
#   tools/gpu/bundle.sh [--out DIR] [--kernels-only]
#       DIR defaults to gpu-bundle/ (git-ignored). --kernels-only leaves out the trainer and its
#       dependencies (Hadoop, Arrow, tokenizers): the kernels, DJL and the check program only.
# Usage (on the GPU node, inside the bundle; also works in a repository checkout with a JDK):
#   bash bundle.sh --build-native
#       cmake-builds native/ against the PyTorch that python3 imports (or TORCH_CMAKE_PREFIX) into
#       lib/native/liblongctx_native.so, where bin/longctx-gpu finds it (in a repository checkout:
#       native/build/liblongctx_native.so).
#
# The bundle holds: runtime.tar.xz (a jlink'd Java runtime, unpacked by bin/longctx-gpu on first
# use), lib/ (longctx's jars, the CLI's included, and their runtime dependencies, without DJL's
# pytorch-native-cpu and pytorch-jni: the GPU node brings its own libtorch and DJL JNI; and without
# jfreechart: eval's charts are drawn where Spark runs eval), hadoop.tar.xz (Hadoop's client
# classes, trainer bundles only), native/ (the extension's sources), include/ (the JDK's jni.h),
# bin/longctx-gpu and this script. It must stay under 64 MiB (what one transfer to a GPU node
# may carry): the script prints each part's size and fails above that.
set -euo pipefail

die() { echo "bundle.sh: $*" >&2; exit 2; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Modules of the jlink'd runtime: what longctx, DJL and Hadoop's client load (measured with the
# trainer on a GPU node).
JRE_MODULES=java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported,java.desktop,java.net.http,jdk.crypto.ec,java.security.jgss,jdk.zipfs,jdk.security.auth,jdk.management,jdk.jfr,jdk.localedata,java.scripting,jdk.charsets
LIMIT_BYTES=$((64 * 1024 * 1024))

build_native() {
  local base src jni
  if [ -f "$HERE/native/CMakeLists.txt" ] && [ -d "$HERE/include" ]; then
    base="$HERE"; src="$HERE/native"; jni="$HERE/include"            # inside a bundle
  elif [ -f "$HERE/../../native/CMakeLists.txt" ]; then
    base="$(cd "$HERE/../.." && pwd)"; src="$base/native"             # a repository checkout
    [ -n "${JAVA_HOME:-}" ] || JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac || die 'no javac: set JAVA_HOME')")")")"
    jni="$JAVA_HOME/include"
  else
    die "--build-native: no native/CMakeLists.txt next to this script (run it inside a bundle or the repository)"
  fi
  command -v cmake >/dev/null || die "--build-native needs cmake"
  local prefix="${TORCH_CMAKE_PREFIX:-}"
  if [ -z "$prefix" ]; then
    prefix="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)' 2>/dev/null)" \
      || die "no PyTorch: set TORCH_CMAKE_PREFIX to libtorch's share/cmake folder, or make python3 import torch"
  fi
  local extra=()
  # libtorch's CMake config looks for the CUDA toolkit when libtorch was built with CUDA.
  if command -v nvcc >/dev/null; then
    local nvcc; nvcc="$(readlink -f "$(command -v nvcc)")"
    extra+=("-DCUDAToolkit_ROOT=$(dirname "$(dirname "$nvcc")")" "-DCMAKE_CUDA_COMPILER=$nvcc")
  fi
  # LONGCTX_CMAKE_ARGS: more -D options for native/ (e.g. -DLONGCTX_PROFILER=OFF)
  # shellcheck disable=SC2206
  extra+=(${LONGCTX_CMAKE_ARGS:-})
  local build="$src/build"
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DJNI_INCLUDE_DIR="$jni" "${extra[@]}"
  cmake --build "$build" -j "$(nproc)"
  if [ "$base" = "$HERE" ]; then # a bundle: where bin/longctx-gpu looks
    mkdir -p "$base/lib/native"
    cp "$build/liblongctx_native.so" "$base/lib/native/"
    echo "built $base/lib/native/liblongctx_native.so"
  else
    echo "built $build/liblongctx_native.so (use it with LONGCTX_NATIVE_LIB or -Dlongctx.native.lib)"
  fi
}

size_of() { du -sb "$1" | cut -f1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

make_bundle() {
  local root out="" kernels_only=0
  root="$(cd "$HERE/../.." && pwd)"
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --kernels-only) kernels_only=1; shift ;;
      *) die "unknown argument $1 (see the usage at the top of tools/gpu/bundle.sh)" ;;
    esac
  done
  out="${out:-$root/gpu-bundle}"
  command -v mvn >/dev/null || die "mvn not found"
  command -v jlink >/dev/null || die "jlink not found: a JDK 17 is needed to build the bundle"
  local java_home; java_home="$(dirname "$(dirname "$(readlink -f "$(command -v jlink)")")")"
  [ -f "$java_home/include/jni.h" ] || die "no jni.h in $java_home/include"

  local modules=kernels
  [ "$kernels_only" = 1 ] || modules=kernels,trainer,jobs  # jobs: the CLI (bench gpu, train, score, export)
  local staging="$root/target/gpu-bundle-staging"
  rm -rf "$staging" && mkdir -p "$staging/lib"
  echo "bundle.sh: building $modules (mvn package) ..." >&2
  (cd "$root" && mvn -B -ntp -q -DskipTests -pl "$modules" -am package dependency:copy-dependencies \
      -DincludeScope=runtime -DexcludeArtifactIds=pytorch-native-cpu,pytorch-jni,jfreechart \
      -DoutputDirectory="$staging/lib")
  local m
  for m in ${modules//,/ }; do
    cp "$root/$m"/target/longctx-"$m"-*.jar "$staging/lib/"
  done
  rm -f "$staging"/lib/longctx-*-sources.jar "$staging"/lib/longctx-*-spark.jar  # the shaded spark-submit jar
  # Modules resolve some shared libraries to different versions (commons-io via DJL and via
  # Arrow); keep the newest of each, as Maven's nearest-wins would for one application.
  local name
  for name in $(ls "$staging/lib" | sed -E 's/-[0-9][^-]*(-SNAPSHOT)?(-tests)?\.jar$/\2/' | sort | uniq -d); do
    ls "$staging/lib/$name"-[0-9]*.jar | sort -V | head -n -1 | xargs rm -f
  done
  if [[ ",$modules," == *",trainer,"* ]]; then
    # Hadoop's client is "provided" in the modules (Spark brings it), but checkpoints and
    # weights are read and written through Hadoop's FileSystem when training without Spark.
    local hv; hv="$(sed -n 's#.*<hadoop.version>\(.*\)</hadoop.version>.*#\1#p' "$root/pom.xml")"
    for m in hadoop-client-api hadoop-client-runtime; do
      (cd "$root" && mvn -B -ntp -q -N dependency:copy -Dartifact="org.apache.hadoop:$m:$hv" \
          -DoutputDirectory="$staging/lib")
    done
  fi

  rm -rf "$out" && mkdir -p "$out/bin" "$out/lib"
  local cache="$root/target/gpu-bundle-cache"
  mkdir -p "$cache"

  # Hadoop's shaded client jars compress to 40 % as unpacked classes in one xz archive; the
  # archive is cached by the jars' checksum (xz takes over a minute on two cores).
  local hjars; hjars="$(ls "$staging"/lib/hadoop-client-*.jar 2>/dev/null || true)"
  if [ -n "$hjars" ]; then
    local key; key="$(cat $hjars | sha256sum | cut -c1-16)"
    if [ ! -f "$cache/hadoop-$key.tar.xz" ]; then
      echo "bundle.sh: packing Hadoop's classes (xz, once) ..." >&2
      local tmp="$cache/hadoop-tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
      local j
      for j in $hjars; do
        local name; name="$(basename "$j" .jar)"
        mkdir -p "$tmp/hadoop/$name" && (cd "$tmp/hadoop/$name" && unzip -q "$j")
      done
      tar -C "$tmp" -cf - hadoop | xz -T0 -6 > "$cache/hadoop-$key.tar.xz.part"
      mv "$cache/hadoop-$key.tar.xz.part" "$cache/hadoop-$key.tar.xz" && rm -rf "$tmp"
    fi
    cp "$cache/hadoop-$key.tar.xz" "$out/hadoop.tar.xz"
    rm -f $hjars
  fi
  # DJL's tokenizers, zstd-jni and JNA carry native libraries for every platform; GPU nodes are
  # linux-x86_64, and the bundle has to fit its 64 MiB. (None of these jars is signed.)
  command -v zip >/dev/null || die "zip not found (used to drop other platforms' natives from jars)"
  local jar
  for jar in "$staging"/lib/tokenizers-*.jar; do
    [ -f "$jar" ] && { zip -q -d "$jar" 'native/lib/linux-aarch64/*' 'native/lib/osx-*' 'native/lib/win-*' >/dev/null || true; }
  done
  for jar in "$staging"/lib/zstd-jni-*.jar; do
    [ -f "$jar" ] && { zip -q -d "$jar" 'aix/*' 'darwin/*' 'freebsd/*' 'win/*' 'linux/aarch64/*' 'linux/arm/*' \
      'linux/i386/*' 'linux/loongarch64/*' 'linux/mips64/*' 'linux/ppc64/*' 'linux/ppc64le/*' 'linux/riscv64/*' \
      'linux/s390x/*' >/dev/null || true; }
  done
  for jar in "$staging"/lib/jna-*.jar; do
    [ -f "$jar" ] || continue
    local drop; drop="$(unzip -Z1 "$jar" | grep -E '^com/sun/jna/[a-z0-9]+-[a-z0-9-]+/.+' | grep -v '^com/sun/jna/linux-x86-64/' || true)"
    [ -z "$drop" ] || zip -q -d "$jar" $drop >/dev/null
  done
  cp "$staging"/lib/*.jar "$out/lib/"

  # The Java runtime, cached by JDK version and module list.
  local jkey; jkey="$(printf '%s %s' "$("$java_home/bin/java" -version 2>&1 | head -1)" "$JRE_MODULES" | sha256sum | cut -c1-16)"
  if [ ! -f "$cache/runtime-$jkey.tar.xz" ]; then
    echo "bundle.sh: jlink + xz of the Java runtime (once) ..." >&2
    rm -rf "$cache/runtime"
    jlink --add-modules "$JRE_MODULES" --strip-debug --no-header-files --no-man-pages --output "$cache/runtime"
    tar -C "$cache" -cf - runtime | xz -T0 -6 > "$cache/runtime-$jkey.tar.xz.part"
    mv "$cache/runtime-$jkey.tar.xz.part" "$cache/runtime-$jkey.tar.xz" && rm -rf "$cache/runtime"
  fi
  cp "$cache/runtime-$jkey.tar.xz" "$out/runtime.tar.xz"

  mkdir -p "$out/native"
  cp -r "$root/native/CMakeLists.txt" "$root/native/src" "$out/native/"
  cp -r "$java_home/include" "$out/include"
  cp "$root/tools/gpu/longctx-gpu" "$out/bin/longctx-gpu"
  cp "$root/tools/gpu/bundle.sh" "$out/bundle.sh"
  mkdir -p "$out/bench" && cp "$root/tools/bench/hf_train_bench.py" "$root/tools/bench/trace_summary.py" "$out/bench/"
  chmod +x "$out/bin/longctx-gpu" "$out/bundle.sh"

  local total; total="$(size_of "$out")"
  echo "bundle: $out"
  printf '  %-16s %s\n' "runtime.tar.xz" "$(mib "$(size_of "$out/runtime.tar.xz")")"
  [ -f "$out/hadoop.tar.xz" ] && printf '  %-16s %s\n' "hadoop.tar.xz" "$(mib "$(size_of "$out/hadoop.tar.xz")")"
  printf '  %-16s %s (%s jars)\n' "lib/" "$(mib "$(size_of "$out/lib")")" "$(ls "$out/lib" | wc -l)"
  printf '  %-16s %s\n' "native/ include/" "$(mib $(( $(size_of "$out/native") + $(size_of "$out/include") )))"
  printf '  %-16s %s\n' "total" "$(mib "$total")"
  [ "$total" -le "$LIMIT_BYTES" ] || die "the bundle is $(mib "$total"), over the 64 MiB a GPU node's transfer carries"
}

case "${1:-}" in
  --build-native) build_native ;;
  -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" ;;
  *) make_bundle "$@" ;;
esac
