/** The four files that every managed home links to one shared copy. Everything else in a home stays private. */
export type ItemId = 'credentials' | 'claude-json' | 'settings' | 'settings-local';

export interface SharedItem {
  id: ItemId;
  /** Path relative to $HOME (and to the backup run's shared/ for backups of the shared copy). */
  rel: string;
  optional: boolean;
}

export const SHARED_ITEMS: readonly SharedItem[] = [
  { id: 'credentials', rel: '.claude/.credentials.json', optional: false },
  { id: 'claude-json', rel: '.claude.json', optional: false },
  { id: 'settings', rel: '.claude/settings.json', optional: false },
  { id: 'settings-local', rel: '.claude/settings.local.json', optional: true },
];

export function itemsFor(shareSettingsLocal: boolean): SharedItem[] {
  return SHARED_ITEMS.filter((i) => shareSettingsLocal || !i.optional);
}

/**
 * Every shared copy lives in ONE group-writable directory, <shared>/home/.claude (Claude writes its temp files next
 * to the link's target and renames them, so that directory must be writable by members). Its parent <shared>/home is
 * root's alone (2750): no member can rename, replace or fill it, so nobody can move the shared copies away from the
 * others. Layouts before 0.2 kept .claude.json in <shared>/home itself, which made that parent group-writable;
 * sync moves it (LEGACY_CLAUDE_JSON) and relinks every member.
 */
export const sharedStore = (sharedDir: string) => `${sharedDir}/home/.claude`;
export const sharedPath = (sharedDir: string, item: SharedItem) => `${sharedStore(sharedDir)}/${item.rel.slice(item.rel.lastIndexOf('/') + 1)}`;
export const legacySharedClaudeJson = (sharedDir: string) => `${sharedDir}/home/.claude.json`;
export const homePath = (home: string, item: SharedItem) => `${home}/${item.rel}`;
