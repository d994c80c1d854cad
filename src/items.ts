/** The four files that every managed home links to one shared copy. Everything else in a home stays private. */
export type ItemId = 'credentials' | 'claude-json' | 'settings' | 'settings-local';

export interface SharedItem {
  id: ItemId;
  /** Path relative to $HOME, and relative to <shared dir>/home for the shared copy. */
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

export const sharedHome = (sharedDir: string) => `${sharedDir}/home`;
export const sharedPath = (sharedDir: string, item: SharedItem) => `${sharedDir}/home/${item.rel}`;
export const homePath = (home: string, item: SharedItem) => `${home}/${item.rel}`;
