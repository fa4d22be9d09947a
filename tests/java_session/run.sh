#!/usr/bin/env bash
# Runs SessionCheck.java (our test of iotdb-rs through the official Java Session) against a
# fresh `iotdb-rs serve`, for each iotdb-session version and both Thrift protocols (binary, and
# compact as `open(enableRPCCompression=true)` selects it).
#
# The jars come from Maven Central through mvn (dependency:build-classpath on pom.xml here) and
# are cached outside the repository with the compiled classes. SessionCheck is written against
# the 1.3 package names; for 1.0.x this script rewrites `org.apache.tsfile.` to the 1.0 names
# and leaves out NewTypes.java (types and RPCs 1.0 does not have).
#
# Environment:
#   IOTDB_RS_BIN            server binary (default: $CARGO_TARGET_DIR/release/iotdb-rs)
#   IOTDB_RS_JAVA_CACHE     jar/class cache (default: ~/.cache/iotdb-rs/java-session)
#   IOTDB_RS_JAVA_VERSIONS  iotdb-session versions (default: "1.0.1 1.3.3")
#   IOTDB_RS_JAVA_REQUIRED  when 1, a missing java/javac/mvn or unresolvable jar fails the run
#                           instead of skipping it
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin="${IOTDB_RS_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/iotdb-rs}"
read -r -a versions <<<"${IOTDB_RS_JAVA_VERSIONS:-1.0.1 1.3.3}"
cache="${IOTDB_RS_JAVA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iotdb-rs/java-session}"

skip() {
    echo "java-session: skipped: $*" >&2
    [[ "${IOTDB_RS_JAVA_REQUIRED:-0}" == 1 ]] && exit 1
    exit 0
}
for tool in java javac mvn; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
[[ -x "$bin" ]] || { echo "java-session: server binary $bin not found" >&2; exit 1; }

# Resolves and compiles every version first, so a missing jar skips before a server starts.
for v in "${versions[@]}"; do
    dir="$cache/$v"
    mkdir -p "$dir/src" "$dir/classes"
    if [[ ! -s "$dir/classpath.txt" ]]; then
        if ! mvn -q -f "$here/pom.xml" -Dsession.version="$v" dependency:build-classpath \
            -Dmdep.outputFile="$dir/classpath.txt" >&2; then
            rm -f "$dir/classpath.txt"
            skip "could not resolve org.apache.iotdb:iotdb-session:$v with mvn"
        fi
    fi
    rm -f "$dir/src/"*.java "$dir/classes/"*.class
    if [[ "$v" == 1.0.* ]]; then
        sed -e 's/org\.apache\.tsfile\.enums\.TSDataType/org.apache.iotdb.tsfile.file.metadata.enums.TSDataType/' \
            -e 's/org\.apache\.tsfile\./org.apache.iotdb.tsfile./' \
            "$here/SessionCheck.java" >"$dir/src/SessionCheck.java"
    else
        cp "$here/SessionCheck.java" "$here/NewTypes.java" "$dir/src/"
    fi
    # iotdb-session 1.0 logs every statement at DEBUG through logback unless configured.
    echo '<configuration><root level="OFF"/></configuration>' >"$dir/classes/logback.xml"
    javac -nowarn -encoding UTF-8 -cp "$(cat "$dir/classpath.txt")" -d "$dir/classes" \
        "$dir/src/"*.java
done

work=$(mktemp -d "${TMPDIR:-/tmp}/iotdb-rs-java.XXXXXX")
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done

status=0
for v in "${versions[@]}"; do
    dir="$cache/$v"
    for protocol in binary compact; do
        echo "== iotdb-session $v, $protocol protocol"
        name="v${v//./}_$protocol"
        java -cp "$dir/classes:$(cat "$dir/classpath.txt")" SessionCheck 127.0.0.1 "$port" "$name" \
            "$protocol" 2> >(grep -v -e '^SLF4J' -e 'logback' >&2) || status=1
    done
done
kill -0 "$server_pid" 2>/dev/null || { echo "java-session: the server died" >&2; cat "$work/server.log" >&2; exit 1; }
exit $status
