/**
 * Every kind of plan step, and what each one means to the rest of the program, in one place:
 * - dry, done: how the dry run and the report say it ("would X" before, "X-ed" after: both views always agree);
 * - about: what the target names (a group, an account, else a path), for --json;
 * - first: done before everything else, then the world is looked at again (homes exist only after useradd, the shared
 *   tree only once put back);
 * - phase: the line it is counted on when a big init prints one line per phase instead of one per step.
 * ActionKind is derived from this table (model.ts), so a new kind is one entry here, and the compiler asks for it
 * in apply.ts's switch.
 */
interface KindInfo {
  dry: string;
  done: string;
  about?: 'group' | 'account';
  first?: true;
  phase?: string;
}

export const ACTION_KINDS = {
  'create-group': { dry: 'would create group', done: 'created group', about: 'group', first: true },
  'create-user': { dry: 'would create user', done: 'created user', about: 'account', first: true, phase: 'accounts' },
  'set-passwords': { dry: 'would set the password of', done: 'set the password of', about: 'account', first: true, phase: 'passwords' },
  'add-to-group': { dry: 'would add to group', done: 'added to group', about: 'group', phase: 'group membership' },
  'make-dir': { dry: 'would set up directory', done: 'set up directory', first: true, phase: 'shared directory' },
  'seed-shared': { dry: 'would seed shared copy', done: 'seeded shared copy', phase: 'shared copies' },
  'promote-shared': { dry: 'would promote into shared copy', done: 'promoted into shared copy', phase: 'shared copies' },
  'fix-shared': { dry: 'would fix group and mode of', done: 'fixed group and mode of', phase: 'shared copies' },
  'retire-source': { dry: "would move the source's private copy to the backups:", done: "moved the source's private copy to the backups:", phase: 'shared copies' },
  'make-claude-dir': { dry: 'would create', done: 'created' },
  link: { dry: 'would link', done: 'linked' },
  'umask-block': { dry: 'would add the umask block to', done: 'added the umask block to' },
  'write-config': { dry: 'would write', done: 'wrote', phase: 'config' },
  privatize: { dry: 'would replace the link with a private copy:', done: 'replaced the link with a private copy:' },
  'leave-group': { dry: 'would remove from group', done: 'removed from group', about: 'group' },
  'delete-account': { dry: 'would delete the account', done: 'deleted the account', about: 'account' },
  'remove-file': { dry: 'would remove', done: 'removed' },
  'archive-shared': { dry: 'would move the shared directory to the root-only archive', done: 'moved the shared directory to the root-only archive' },
  'set-aside': { dry: 'would move to <shared>/set-aside (root-only) what a member put at', done: 'moved to <shared>/set-aside (root-only) what a member put at', first: true },
  'restore-dir': { dry: 'would put back the shared directory', done: 'put back the shared directory', first: true },
  'move-legacy': { dry: 'would move the shared .claude.json (layout before 0.2) to', done: 'moved the shared .claude.json (layout before 0.2) to', first: true },
} satisfies Record<string, KindInfo>;

export type ActionKind = keyof typeof ACTION_KINDS;
export const kindInfo = (k: ActionKind): KindInfo => ACTION_KINDS[k];
