#!/usr/bin/env bash
# Runs tests/tsfile_interop/java/Oracle.java against the official Java TsFile library.
#   java_oracle.sh <tsfile-version> write <dir> | read <file>...
# Version 1.1.x writes/reads V3 (IoTDB 1.x), 2.x writes/reads V4. Jars come from Maven Central
# through mvn and are cached outside the repository ($TSFILE_INTEROP_CACHE, default
# ~/.cache/iotdb-rs/tsfile-interop). Exits 77 when java, javac or mvn (or the jars) are missing.
set -euo pipefail
version=$1
shift
for tool in java javac mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "java_oracle: $tool not found" >&2; exit 77; }
done
here=$(cd "$(dirname "$0")" && pwd)
cache=${TSFILE_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iotdb-rs/tsfile-interop}/java-$version
mkdir -p "$cache/classes"
if [ ! -s "$cache/classpath.txt" ]; then
  if ! mvn -q -f "$here/java/pom.xml" -Dtsfile.version="$version" dependency:build-classpath \
      -Dmdep.outputFile="$cache/classpath.txt" >&2; then
    rm -f "$cache/classpath.txt"
    echo "java_oracle: could not resolve org.apache.tsfile:tsfile:$version with mvn" >&2
    exit 77
  fi
fi
cp=$(cat "$cache/classpath.txt")
if [ ! -f "$cache/classes/Oracle.class" ] || [ "$here/java/Oracle.java" -nt "$cache/classes/Oracle.class" ]; then
  javac -nowarn -encoding UTF-8 -cp "$cp" -d "$cache/classes" "$here/java/Oracle.java" 2>&1 | grep -v '^Note:' >&2 || true
  [ -f "$cache/classes/Oracle.class" ] || { echo "java_oracle: compiling Oracle.java failed" >&2; exit 1; }
fi
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=error -cp "$cache/classes:$cp" Oracle "$@"
