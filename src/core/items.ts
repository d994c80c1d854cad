/** The four files that every managed home links to one shared copy. Everything else in a home stays private. */
export type ItemId = 'credentials' | 'claude-json' | 'settings' | 'settings-local';

export interface SharedItem {
  id: ItemId;
  /** Path relative to $HOME (and to the backup run's shared/ for backups of the shared copy). */
  rel: string;
  /** settings.local.json is shared unless the config says SHARE_SETTINGS_LOCAL=no. */
  optional: boolean;
  /** How its content is judged: a login (credentials.ts), or a JSON document. */
  format: 'credentials' | 'json';
  /** Keys whose values run commands as whoever runs Claude: a shared copy with them gets a warning. */
  commandKeys: readonly string[];
}

/** Settings keys that run a command (hooks, helpers, the status line). */
const SETTINGS_COMMAND_KEYS = ['hooks', 'apiKeyHelper', 'statusLine', 'awsAuthRefresh', 'awsCredentialExport', 'otelHeadersHelper'];

/** THE layout: adding a shared file is one line here (and its tests); the watch names and directories derive from it. */
export const SHARED_ITEMS: readonly SharedItem[] = [
  { id: 'credentials', rel: '.claude/.credentials.json', optional: false, format: 'credentials', commandKeys: [] },
  { id: 'claude-json', rel: '.claude.json', optional: false, format: 'json', commandKeys: ['mcpServers'] },
  { id: 'settings', rel: '.claude/settings.json', optional: false, format: 'json', commandKeys: SETTINGS_COMMAND_KEYS },
  { id: 'settings-local', rel: '.claude/settings.local.json', optional: true, format: 'json', commandKeys: SETTINGS_COMMAND_KEYS },
];

/** The file's own name (what inotify reports in its directory). */
export const baseName = (item: SharedItem) => item.rel.slice(item.rel.lastIndexOf('/') + 1);
/** The directories of a home that hold shared items, relative to it ('' is the home itself). */
export const HOME_DIRS: readonly string[] = [...new Set(SHARED_ITEMS.map((i) => i.rel.slice(0, Math.max(0, i.rel.lastIndexOf('/')))))];

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
export const sharedPath = (sharedDir: string, item: SharedItem) => `${sharedStore(sharedDir)}/${baseName(item)}`;
export const legacySharedClaudeJson = (sharedDir: string) => `${sharedDir}/home/.claude.json`;
export const homePath = (home: string, item: SharedItem) => `${home}/${item.rel}`;

/** The shared directory's own layout: owner, group and mode of each directory (sync restores them). */
export function sharedDirs(sharedDir: string) {
  return [
    { path: sharedDir, mode: 0o2750, uid: 0, group: 'shared' as const },
    // root's alone: members cannot rename or replace the directory of the shared copies (see sharedStore).
    { path: `${sharedDir}/home`, mode: 0o2750, uid: 0, group: 'shared' as const },
    { path: sharedStore(sharedDir), mode: 0o2770, uid: 0, group: 'shared' as const },
    { path: `${sharedDir}/backups`, mode: 0o700, uid: 0, group: 'root' as const },
  ];
}

/** Files larger than this are never read into memory: Claude's files are a few KiB. */
export const MAX_READ_BYTES = 16 * 1024 * 1024;
/** The shell start files that get the umask block. */
export const RC_FILES = ['.bashrc', '.profile'];
export const UMASK_BEGIN = '# >>> claude-share >>>';
export const UMASK_END = '# <<< claude-share <<<';
export const UMASK_BLOCK = `${UMASK_BEGIN}\n# Keep new files group-writable so the shared Claude login stays usable by every member.\numask 002\n${UMASK_END}\n`;

/**
 * The names whose change in a watched directory (a home, its .claude, the shared store) can need a heal: the shared
 * items, their directories, the shell start files. Claude's temp files come and go; its final rename is what counts.
 */
export const WATCHED_NAMES: ReadonlySet<string> = new Set([...SHARED_ITEMS.map(baseName), ...HOME_DIRS.filter(Boolean), ...RC_FILES]);
