# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run).

# bench_require_sandbox NAME HOST_COMMAND -- refuse to run outside the disposable e2e system, or not as root:
# the benchmarks create and delete real users.
bench_require_sandbox() {
  local marker=/.claude-share-e2e-sandbox
  if [[ "${CLAUDE_SHARE_E2E_INSIDE:-}" != 1 || ! -e "$marker" ]]; then
    echo "$1: refusing to run: not inside the claude-share e2e sandbox ($marker and CLAUDE_SHARE_E2E_INSIDE=1)." >&2
    echo "  It creates and deletes real users. Run it from the host with: $2" >&2
    exit 2
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "$1: must run as root (inside the sandbox)" >&2
    exit 2
  fi
}

# bench_build_if_stale TAG -- npm run build when dist/ is missing or older than the sources (cwd = repo).
bench_build_if_stale() {
  if [[ ! -f dist/src/cli.js ]] || [[ -n "$(find src commands package.json tsconfig.build.json -newer dist/src/cli.js -print -quit)" ]]; then
    echo "$1: building (npm run build)" >&2
    npm run build >&2
  fi
}
