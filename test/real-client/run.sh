#!/usr/bin/env bash
# The real-client suite: real Claude Code versions, run as members through claude-share's links, against a fake
# token endpoint (never the real service).
#
#   sudo npm run test:real-client           every version in test/real-client/versions
#   CLAUDE_SHARE_REAL_CLIENT_VERSIONS="2.1.330" sudo npm run test:real-client
#
# 1. Installs each version once into /var/cache/claude-share-real-client/VERSION (npm, --ignore-scripts: the native
#    builds' binary is taken from the platform package directly).
# 2. Makes a throw-away CA and a certificate for platform.claude.com and api.anthropic.com (openssl).
# 3. Runs test/real-client/real-client.bats, usage.bats and containers.bats (or the .bats files named) in the e2e sandbox
#    (docker/e2e/run.sh): its own network namespace, where the suites point both hosts at 127.0.0.1 in the sandbox's
#    /etc/hosts and serve fake-anthropic.mjs there. containers.bats starts a real Docker engine in the sandbox (below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
cache=${CLAUDE_SHARE_REAL_CLIENT_CACHE:-/var/cache/claude-share-real-client}
say() { printf 'real-client: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "run it as root (it creates users in a disposable sandbox): sudo npm run test:real-client"; exit 77; }
command -v openssl >/dev/null || { apt-get -o DPkg::Lock::Timeout=600 install -y -qq openssl >/dev/null 2>&1 || { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq openssl >/dev/null; }; }

versions=${CLAUDE_SHARE_REAL_CLIENT_VERSIONS:-$(grep -v '^#' "$here/versions" | xargs)}
mkdir -p "$cache"
# The workspace leg installs 2.1.330 into the same cache, perhaps at the same time: one installer at a time.
exec 8>"$cache/.install.lock"
flock 8
for v in $versions; do
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { say "not a version: $v"; exit 64; }
  if [[ ! -e "$cache/$v/.complete" ]]; then
    say "installing @anthropic-ai/claude-code@$v"
    rm -rf "$cache/$v.tmp"
    npm install --no-audit --no-fund --ignore-scripts --loglevel=error --prefix "$cache/$v.tmp" "@anthropic-ai/claude-code@$v" >&2
    rm -rf "$cache/$v" && mv "$cache/$v.tmp" "$cache/$v" && touch "$cache/$v/.complete"
  fi
done
chmod -R a+rX "$cache"
flock -u 8

# A new CA for every run, in a directory of its own (runs side by side never mix certificates): nothing outside this
# run ever trusts it, and it is removed afterwards.
ca=$(mktemp -d "$cache/ca.XXXXXX")
trap 'rm -rf "$ca"' EXIT
chmod 0755 "$ca"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=claude-share real-client test CA' \
  -keyout "$ca/ca.key" -out "$ca/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj '/CN=platform.claude.com' -keyout "$ca/server.key" -out "$ca/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:platform.claude.com,DNS:api.anthropic.com,DNS:claude.ai,DNS:console.anthropic.com\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$ca/ext"
openssl x509 -req -in "$ca/server.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial -days 2 -extfile "$ca/ext" -out "$ca/server.crt" 2>/dev/null
chmod 0644 "$ca/ca.crt"
chmod 0600 "$ca/ca.key" "$ca/server.key"

# containers.bats runs a real Docker engine inside the sandbox (the server claude-share manages): Debian's docker.io,
# a data root on this disk for it (one run at a time uses it), and a debootstrapped Debian 12 tree for the containers'
# base image (test/fresh/tree.sh, cached; held shared meanwhile so it is not replaced under the import).
files=()
for a in "$@"; do [[ $a == *.bats ]] && files+=("$a"); done
[[ ${#files[@]} -gt 0 ]] || files=(test/real-client/real-client.bats test/real-client/usage.bats test/real-client/containers.bats)
if printf '%s\n' "${files[@]}" | grep -q 'containers\.bats$'; then
  [[ -x /usr/sbin/dockerd && -x /usr/bin/docker && -x /usr/bin/docker-compose ]] || {
    say "installing docker.io and docker-compose (apt-get)"
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io docker-compose >/dev/null 2>&1 ||
      { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io docker-compose >/dev/null; }
  }
  data=${CLAUDE_SHARE_CONTAINERS_CACHE:-/var/cache/claude-share-containers}
  mkdir -p "$data/data" && chmod 0700 "$data"
  exec 8>"$data/run.lock"
  flock -n 8 || { say "another run holds $data/run.lock; waiting"; flock 8; }
  tree=$(bash "$repo/test/fresh/tree.sh" bookworm) || { say "test/fresh/tree.sh bookworm failed"; exit 2; }
  exec 7>"$(dirname "$tree")/.bookworm.use"
  flock -s 7
  export CLAUDE_SHARE_E2E_DOCKER_DATA="$data/data" CLAUDE_SHARE_CONTAINER_TREE="$tree"
fi

export CLAUDE_SHARE_REAL_CLIENT_VERSIONS="$versions" CLAUDE_SHARE_REAL_CLIENT_CA="$ca"
say "versions: $versions"
cd "$repo"
# The sandbox: the cache and the CA are on this machine's disk, which the sandbox sees (overlay on /).
export CLAUDE_SHARE_E2E_MODE=${CLAUDE_SHARE_E2E_MODE:-sandbox}
args=()
for a in "$@"; do [[ $a == *.bats ]] || args+=("$a"); done
bash docker/e2e/run.sh "${files[@]}" ${args[@]+"${args[@]}"}
