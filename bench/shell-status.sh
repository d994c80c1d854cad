#!/usr/bin/env bash
# REFERENCE ONLY, not shipped: the check `claude-share status` does, written the
# way a shell implementation would do it, as the baseline bench/bench.sh times.
#
#   bash bench/shell-status.sh [CONFIG]      (default /etc/claude-share/config)
#
# Per managed user: `id -nG USER`, and for each of the 4 items one `readlink`
# and one `stat -c '%U %G %a'` (9 processes per user); plus one stat of each
# shared file. Homes come from bash's own ~USER expansion (getpwnam, no
# process), so this baseline is, if anything, faster than a typical script.
# Exit 0 when healthy, 1 on drift (like status). Read-only.
set -uo pipefail
conf=${1:-/etc/claude-share/config}
SHARED_DIR='' GROUP='' MANAGED_USERS='' SHARE_SETTINGS_LOCAL=yes
while IFS='=' read -r k v; do
  case "$k" in
    SHARED_DIR | GROUP | MANAGED_USERS | SHARE_SETTINGS_LOCAL) printf -v "$k" '%s' "$v" ;;
  esac
done <"$conf"

items=(.claude/.credentials.json .claude.json .claude/settings.json)
[[ "$SHARE_SETTINGS_LOCAL" == no ]] || items+=(.claude/settings.local.json)
# Since 0.2 every shared copy lives in <shared>/home/.claude under its own file name.
shared="$SHARED_DIR/home/.claude"
problems=0

for it in "${items[@]}"; do
  read -r owner group mode type < <(stat -c '%U %G %a %F' -- "$shared/${it##*/}" 2>/dev/null) || true
  if [[ "$type" != "regular file" || "$group" != "$GROUP" || "$mode" != 660 ]]; then
    echo "shared $shared/${it##*/}: $owner:$group $mode $type"
    problems=$((problems + 1))
  fi
done

IFS=, read -ra users <<<"$MANAGED_USERS"
for u in "${users[@]}"; do
  [[ "$u" =~ ^[a-z_][a-z0-9_-]*[$]?$ ]] || { echo "bad name $u"; problems=$((problems + 1)); continue; }
  home=''
  eval "home=~$u" # name validated above
  groups=" $(id -nG "$u" 2>/dev/null) "
  [[ "$groups" == *" $GROUP "* ]] || { echo "$u: not in $GROUP"; problems=$((problems + 1)); }
  for it in "${items[@]}"; do
    target=$(readlink -- "$home/$it")
    info=$(stat -c '%U %G %a' -- "$home/$it" 2>/dev/null)
    if [[ "$target" != "$shared/${it##*/}" ]]; then
      echo "$u: $home/$it is not a link to $shared/${it##*/} ($info)"
      problems=$((problems + 1))
    fi
  done
done

echo "${#users[@]} users, $problems problem(s)"
[[ $problems -eq 0 ]]
