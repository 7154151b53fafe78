#!/usr/bin/env bash
# Fetch, build and run a real Neo4j 5.26 LTS (community, embedded in a tiny
# launcher, see scripts/neo4j-launcher/) for creditlink's tests and local dev.
#
#   scripts/neo4j.sh start     build the launcher if needed, start, wait for Bolt
#   scripts/neo4j.sh stop      SIGTERM, wait up to 60 s, SIGKILL as a last resort
#   scripts/neo4j.sh restart   stop, then start
#   scripts/neo4j.sh status    "running" (exit 0) or "not running" (exit 3)
#   scripts/neo4j.sh wait      wait until Bolt answers (exit 0) or time out (exit 1)
#   scripts/neo4j.sh build     only build the launcher (Maven fetches Neo4j)
#
# Environment:
#   CREDITLINK_NEO4J_BOLT_PORT      Bolt port on 127.0.0.1        (default 7687)
#   CREDITLINK_NEO4J_PASSWORD       password of user neo4j         (default creditlink-dev)
#   CREDITLINK_NEO4J_HOME           data, logs and PID file        (default <repo>/.neo4j)
#   CREDITLINK_NEO4J_HEAP           JVM max heap                   (default 1g)
#   CREDITLINK_NEO4J_PAGECACHE      Neo4j page cache               (default 256m)
#   CREDITLINK_NEO4J_TX_MEMORY      most memory one transaction may use (default: no
#                                   limit of its own; all together 70% of the heap)
#   CREDITLINK_NEO4J_START_TIMEOUT  seconds to wait for Bolt       (default 120)
#   JAVA_HOME                       JDK for Maven and the server   (default Java 17)
#   JAVA_OPTS                       extra JVM options, appended
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAUNCHER_DIR="$REPO/scripts/neo4j-launcher"
WAIT_PY="$REPO/scripts/neo4j_wait.py"

NEO4J_DIR="${CREDITLINK_NEO4J_HOME:-$REPO/.neo4j}"
PID_FILE="$NEO4J_DIR/neo4j.pid"
READY_FILE="$NEO4J_DIR/neo4j.ready"
LOG_DIR="$NEO4J_DIR/logs"
LOG_FILE="$LOG_DIR/neo4j.log"
LOCK_FILE="$NEO4J_DIR/.lock"

export CREDITLINK_NEO4J_BOLT_PORT="${CREDITLINK_NEO4J_BOLT_PORT:-7687}"
export CREDITLINK_NEO4J_PASSWORD="${CREDITLINK_NEO4J_PASSWORD:-creditlink-dev}"
export CREDITLINK_NEO4J_USER=neo4j
PORT="$CREDITLINK_NEO4J_BOLT_PORT"
HEAP="${CREDITLINK_NEO4J_HEAP:-1g}"
PAGECACHE="${CREDITLINK_NEO4J_PAGECACHE:-256m}"
START_TIMEOUT="${CREDITLINK_NEO4J_START_TIMEOUT:-120}"
STOP_TIMEOUT=60

if [[ -z "${JAVA_HOME:-}" ]]; then
    if [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
        JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
    elif command -v java >/dev/null 2>&1; then
        JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    else
        echo "neo4j.sh: no Java found; install a JDK 17 or set JAVA_HOME" >&2
        exit 1
    fi
fi
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"

if [[ -x "$REPO/.venv/bin/python" ]]; then
    PYTHON="$REPO/.venv/bin/python"
else
    PYTHON="$(command -v python3 || true)"
fi

MAIN_CLASS=creditlink.neo4j.Launcher
BUILD_STAMP="$LAUNCHER_DIR/target/.creditlink-built"

log() { echo "neo4j.sh: $*"; }
die() { echo "neo4j.sh: $*" >&2; exit 1; }

# Serialise start/stop/build between concurrent callers (e.g. make -j).
# The lock descriptor is closed for the server process itself.
take_lock() {
    mkdir -p "$NEO4J_DIR"
    exec 9>"$LOCK_FILE"
    flock -w 600 9 || die "timed out waiting for $LOCK_FILE"
}

needs_build() {
    [[ -f "$BUILD_STAMP" ]] || return 0
    [[ -f "$LAUNCHER_DIR/target/classes/creditlink/neo4j/Launcher.class" ]] || return 0
    compgen -G "$LAUNCHER_DIR/target/lib/neo4j-bolt-*.jar" >/dev/null || return 0
    [[ "$LAUNCHER_DIR/pom.xml" -nt "$BUILD_STAMP" ]] && return 0
    local f
    while IFS= read -r -d '' f; do
        [[ "$f" -nt "$BUILD_STAMP" ]] && return 0
    done < <(find "$LAUNCHER_DIR/src" -type f -print0)
    return 1
}

build() {
    needs_build || return 0
    command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to build the Neo4j launcher"
    log "building the Neo4j launcher (Maven fetches Neo4j on first use; this can take a few minutes)"
    local t0=$SECONDS build_log="$LOG_DIR/build.log"
    mkdir -p "$LOG_DIR"
    # 'clean' so that jars of a previous Neo4j version never linger in target/lib.
    if ! (cd "$LAUNCHER_DIR" && mvn -q -B -Dstyle.color=never clean package) >"$build_log" 2>&1; then
        tail -n 50 "$build_log" >&2
        die "Maven build of $LAUNCHER_DIR failed (full output: $build_log)"
    fi
    touch "$BUILD_STAMP"
    log "launcher built in $((SECONDS - t0)) s"
}

read_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(tr -dc '0-9' <"$PID_FILE")"
    [[ -n "$pid" ]] || return 1
    echo "$pid"
}

# True when PID is alive and really is our launcher (not a recycled PID).
is_our_process() {
    local pid="$1"
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$MAIN_CLASS" || return 1
    fi
    return 0
}

running_pid() {
    local pid
    pid="$(read_pid)" || return 1
    is_our_process "$pid" || return 1
    echo "$pid"
}

# bolt_check TIMEOUT [PID] -> 0 answers with our credentials, 1 no answer, 2 credentials refused.
# With PID (our launcher), Bolt is tried only once the launcher has written READY_FILE.
bolt_check() {
    [[ -n "$PYTHON" ]] || die "no Python found to check Bolt (expected $REPO/.venv/bin/python)"
    local timeout="$1"; shift
    local args=(--timeout "$timeout")
    if [[ $# -gt 0 ]]; then
        args+=(--pid "$1" --ready-file "$READY_FILE")
    fi
    "$PYTHON" "$WAIT_PY" "${args[@]}"
}

terminate() {
    local pid="$1" waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if (( waited >= STOP_TIMEOUT * 2 )); then
            log "pid $pid still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
}

show_log_tail() {
    if [[ -f "$LOG_FILE" ]]; then
        echo "----- last 50 lines of $LOG_FILE -----" >&2
        tail -n 50 "$LOG_FILE" >&2
        echo "----- end of log -----" >&2
    fi
}

cmd_start() {
    take_lock
    local pid rc
    if pid="$(running_pid)"; then
        rc=0; bolt_check "$START_TIMEOUT" "$pid" || rc=$?
        if (( rc == 0 )); then
            log "already running (pid $pid, bolt://127.0.0.1:$PORT)"
            return 0
        fi
        show_log_tail
        die "pid $pid is running but Bolt on port $PORT is not usable (see $LOG_FILE); try: $0 restart"
    fi
    rm -f "$PID_FILE"

    # Something else (not started by this script) may already serve this port.
    rc=0; bolt_check 0 >/dev/null 2>&1 || rc=$?
    if (( rc == 0 )); then
        log "a Neo4j not started by this script already answers on bolt://127.0.0.1:$PORT; using it"
        return 0
    elif (( rc == 2 )); then
        die "port $PORT is served by another Neo4j that refuses user neo4j's password"
    fi

    build
    [[ -x "$JAVA" ]] || die "no java at $JAVA (JAVA_HOME=$JAVA_HOME)"

    mkdir -p "$LOG_DIR"
    [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
    rm -f "$READY_FILE"

    local jvm_opts=(
        -Xms256m "-Xmx$HEAP"
        -XX:+UseG1GC
        -XX:+ExitOnOutOfMemoryError
        -XX:-OmitStackTraceInFastThrow
        -Djdk.nio.maxCachedBufferSize=1024
        -Dio.netty.tryReflectionSetAccessible=true
        -Dfile.encoding=UTF-8
        --add-opens=java.base/java.lang=ALL-UNNAMED
        --add-opens=java.base/java.nio=ALL-UNNAMED
        --add-opens=java.base/java.io=ALL-UNNAMED
        --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    )
    local extra=()
    if [[ -n "${JAVA_OPTS:-}" ]]; then
        read -r -a extra <<<"$JAVA_OPTS"
    fi
    local cp="$LAUNCHER_DIR/target/classes:$LAUNCHER_DIR/target/lib/*"
    local tx_memory=()
    [[ -n "${CREDITLINK_NEO4J_TX_MEMORY:-}" ]] && tx_memory=(--tx-memory "$CREDITLINK_NEO4J_TX_MEMORY")
    local setsid_cmd=()
    command -v setsid >/dev/null 2>&1 && setsid_cmd=(setsid)

    log "starting Neo4j on bolt://127.0.0.1:$PORT (home $NEO4J_DIR, log $LOG_FILE)"
    local t0=$SECONDS
    "${setsid_cmd[@]}" nohup "$JAVA" "${jvm_opts[@]}" "${extra[@]}" -cp "$cp" "$MAIN_CLASS" \
        --home "$NEO4J_DIR" --port "$PORT" --pid-file "$PID_FILE" --ready-file "$READY_FILE" \
        --pagecache "$PAGECACHE" "${tx_memory[@]}" \
        </dev/null >>"$LOG_FILE" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"

    rc=0; bolt_check "$START_TIMEOUT" "$pid" || rc=$?
    if (( rc != 0 )); then
        show_log_tail
        if kill -0 "$pid" 2>/dev/null; then
            terminate "$pid"
        fi
        rm -f "$PID_FILE" "$READY_FILE"
        die "Neo4j did not become ready on bolt://127.0.0.1:$PORT"
    fi
    log "running (pid $pid, bolt://127.0.0.1:$PORT, user neo4j), ready in $((SECONDS - t0)) s"
}

cmd_stop() {
    take_lock
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE" "$READY_FILE"
        log "not running"
        return 0
    fi
    log "stopping (pid $pid)"
    terminate "$pid"
    rm -f "$PID_FILE" "$READY_FILE"
    log "stopped"
}

cmd_status() {
    local pid rc
    if pid="$(running_pid)"; then
        rc=0; bolt_check 0 "$pid" >/dev/null 2>&1 || rc=$?
        if (( rc == 0 )); then
            echo "running (pid $pid, bolt://127.0.0.1:$PORT)"
            return 0
        fi
        if (( rc == 2 )); then
            echo "not usable: pid $pid answers on port $PORT but refuses user neo4j's password (CREDITLINK_NEO4J_PASSWORD)"
        else
            echo "not running: pid $pid is alive but not ready on port $PORT (starting, or unhealthy)"
        fi
        return 3
    fi
    echo "not running"
    return 3
}

cmd_wait() {
    local pid args=()
    pid="$(running_pid)" && args=("$pid")
    if bolt_check "$START_TIMEOUT" "${args[@]}"; then
        log "bolt://127.0.0.1:$PORT is ready"
        return 0
    fi
    return 1
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    wait) cmd_wait ;;
    build) take_lock; build ;;
    *)
        echo "usage: $0 {start|stop|restart|status|wait|build}" >&2
        exit 2
        ;;
esac
