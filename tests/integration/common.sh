# common.sh: sourced by the integration test drivers (*.test, POSIX sh).
#
# Environment (from the Makefile's AM_TESTS_ENVIRONMENT, or defaults for a
# build dir equal to the source dir):
#   BAYEUX_FCGI  absolute path of the built responder
#   TOP_SRCDIR   absolute source dir
#   SANITIZER    none | asan | tsan
# Exit status follows automake: 0 pass, 1 fail, 77 skip, 99 hard error.

it_dir=$(cd "$(dirname "$0")" && pwd)
: "${TOP_SRCDIR:=$(cd "$it_dir/../.." && pwd)}"
: "${BAYEUX_FCGI:=$TOP_SRCDIR/bayeux-fcgi}"
: "${SANITIZER:=none}"
export TOP_SRCDIR BAYEUX_FCGI SANITIZER
it_dir="$TOP_SRCDIR/tests/integration"

skip() { echo "SKIP: $*"; exit 77; }
hard_error() { echo "ERROR: $*" >&2; exit 99; }

find_tool() { # name [fallback paths...]
    _name=$1; shift
    _p=$(command -v "$_name" 2>/dev/null) && { echo "$_p"; return 0; }
    for _f in "$@"; do [ -x "$_f" ] && { echo "$_f"; return 0; }; done
    return 1
}

need_node() {
    NODE=${NODE:-$(find_tool node /usr/bin/node /usr/local/bin/node || find_tool nodejs)} \
        || skip "node is not installed"
    _major=$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null) || skip "node does not run"
    [ "$_major" -ge 20 ] 2>/dev/null || skip "node $_major is too old (node:test needs >= 20)"
    export NODE
}

need_lighttpd() {
    LIGHTTPD=${LIGHTTPD:-$(find_tool lighttpd /usr/sbin/lighttpd /usr/local/sbin/lighttpd)} \
        || skip "lighttpd is not installed"
    export LIGHTTPD
}

need_apache() {
    APACHE2=${APACHE2:-$(find_tool apache2 /usr/sbin/apache2 /usr/local/sbin/apache2)} \
        || skip "apache2 is not installed"
    : "${APACHE_MODDIR:=/usr/lib/apache2/modules}"
    for _m in mod_mpm_event mod_proxy mod_proxy_fcgi mod_authz_core mod_mime mod_dir; do
        [ -f "$APACHE_MODDIR/$_m.so" ] || skip "Apache module $_m.so is not installed in $APACHE_MODDIR"
    done
    export APACHE2 APACHE_MODDIR
}

need_responder() {
    [ -x "$BAYEUX_FCGI" ] || hard_error "responder not built: $BAYEUX_FCGI (run make first)"
}

need_node_modules() {
    for _p in cometd cometd-nodejs-client faye; do
        [ -f "$TOP_SRCDIR/tests/node_modules/$_p/package.json" ] \
            || hard_error "npm package $_p missing: run ./bootstrap or (cd tests && npm ci)"
    done
}

# run_node_tests LIMIT_SECONDS FILE...: node's test runner, one file at a time.
run_node_tests() {
    _limit=$1; shift
    case "$SANITIZER" in tsan) _limit=$((_limit * 5)) ;; asan) _limit=$((_limit * 3)) ;; esac
    set -- --test --test-concurrency=1 --test-reporter=spec "$@"
    if "$NODE" --help 2>/dev/null | grep -q -- '--test-force-exit'; then
        set -- --test-force-exit "$@"
    fi
    echo "bayeux-fcgi: $BAYEUX_FCGI (SANITIZER=$SANITIZER)"
    if command -v timeout >/dev/null 2>&1; then
        timeout -k 10 "$_limit" "$NODE" "$@"
    else
        "$NODE" "$@"
    fi
}
