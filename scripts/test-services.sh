# Sourced by `make test` (POSIX sh): makes Debian's chromium and a local PostgreSQL server available to the
# browser and database tests, and exports where they are. Idempotent; safe to source repeatedly.
# Where packages cannot be installed (not root, no apt-get), those tests skip, unless
# LABELWISE_REQUIRE_SERVICES=1 (set by .ci/run), which makes them fail instead.

_lw_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

_lw_install() {
    local missing=""
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v pg_lsclusters >/dev/null 2>&1 || missing="$missing postgresql"
    [ -z "$missing" ] && return 0
    _lw_root || { echo "test-services: cannot install$missing (needs root and apt-get)"; return 0; }
    echo "test-services: installing$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

_lw_postgres() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    _lw_root || return 0
    local line version cluster port status
    line=$(pg_lsclusters -h | head -n 1)
    if [ -z "$line" ]; then
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        pg_createcluster "$version" main >/dev/null
        line=$(pg_lsclusters -h | head -n 1)
    fi
    # shellcheck disable=SC2086
    set -- $line
    version=$1 cluster=$2 port=$3 status=$4
    case "$status" in online*) ;; *) pg_ctlcluster "$version" "$cluster" start ;; esac
    su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='labelwise'\"" \
        | grep -q 1 \
        || su postgres -c "psql -p $port -qc \"CREATE ROLE labelwise LOGIN SUPERUSER PASSWORD 'labelwise'\""
    export LABELWISE_TEST_POSTGRES_URL="postgresql+psycopg://labelwise:labelwise@127.0.0.1:$port/postgres"
}

_lw_install
_lw_postgres
if command -v chromium >/dev/null 2>&1; then
    export LABELWISE_TEST_CHROMIUM="$(command -v chromium)"
fi
