#!/bin/bash
# A stand-in for Claude Code's writes of ~/.claude/.credentials.json, run AS a member
# (su - USER -c 'bash fake-claude.sh MODE < new.json'). Each mode reproduces one
# behaviour from shared/claude-code-facts.md:
#   inplace  up to 2.1.117: write through the link (same inode), then chmod 0600 through it
#            (fails with EPERM unless this user owns the shared file; Claude ignores that)
#   sever    2.1.118+: temp file in ~/.claude, rename over the link (the link becomes a
#            private 0600 file), then chmod 0600. Also how a logged-out stub or a /login
#            with another account lands: only the content differs.
#   onehop   .claude.json-style: resolve one link hop, temp file next to the target,
#            keep the target's mode, rename over the target (the link survives)
set -euo pipefail
mode=${1:?usage: fake-claude.sh inplace|sever|onehop [RELPATH] < content}
rel=${2:-.claude/.credentials.json}
path="$HOME/$rel"
content=$(cat)
# The client renames, then chmods, in one process, microseconds apart (claude-code-facts.md): so does this, in one perl
# (perl-base is Essential on Debian). Two forked commands were milliseconds apart, wider than the watcher's settle time
# for a credentials rename on a loaded machine. bench/heal.sh defines its own, timed, before sourcing this file.
declare -F rename_and_chmod >/dev/null || rename_and_chmod() {
  perl -e 'rename($ARGV[0], $ARGV[1]) or die "rename: $!\n"; chmod(0600, $ARGV[1]) or die "chmod: $!\n"' "$1" "$2"
}
case "$mode" in
  inplace)
    printf '%s\n' "$content" >"$path"
    chmod 0600 "$path" 2>/dev/null || true
    ;;
  sever)
    tmp="$path.tmp.$$$RANDOM"
    (umask 077 && printf '%s\n' "$content" >"$tmp")
    sync "$tmp" 2>/dev/null || true
    rename_and_chmod "$tmp" "$path"
    ;;
  onehop)
    target=$(readlink "$path" || true)
    [[ -n "$target" ]] || target=$path
    m=$(stat -c %a "$target" 2>/dev/null || echo 600)
    tmp="$target.tmp.$$$RANDOM"
    (umask 077 && printf '%s\n' "$content" >"$tmp")
    chmod "$m" "$tmp"
    mv -f -T "$tmp" "$target"
    ;;
  *)
    echo "fake-claude.sh: unknown mode $mode" >&2
    exit 64
    ;;
esac
