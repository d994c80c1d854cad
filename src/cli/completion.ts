import type { Command } from 'commander';
import { usageError } from '../core/errors.js';

/** Completion generated from the commander tree, so it never drifts from the real flags. */
export function completionScript(shell: string, program: Command): string {
  const words = (c: Command) => [...c.commands.map((x) => x.name()), ...c.options.map((o) => o.long!).filter(Boolean)];
  const cases: string[] = [];
  const walk = (c: Command, path: string) => {
    cases.push(`    "${path}") opts="${words(c).join(' ')}" ;;`);
    for (const sub of c.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
  if (shell === 'bash') {
    return `# bash completion for claude-share: eval "$(claude-share completion bash)"
_claude_share() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" w i opts
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    case " $(_claude_share_words "$path") " in *" $w "*) path=\${path:+$path }$w ;; esac
  done
  opts=$(_claude_share_words "$path")
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
_claude_share_words() {
  local opts=""
  case "$1" in
${cases.join('\n')}
  esac
  printf '%s' "$opts"
}
complete -F _claude_share claude-share
`;
  }
  if (shell === 'zsh') {
    return `# zsh completion for claude-share: eval "$(claude-share completion zsh)"
autoload -Uz bashcompinit && bashcompinit
${completionScript('bash', program)}`;
  }
  throw usageError(`no completion for shell "${shell}"`, 'use bash or zsh');
}
