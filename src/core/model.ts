import type { ActionKind } from './action-kinds.js';
import type { ItemId, SharedItem } from './items.js';
import type { ProblemCode } from './problem-codes.js';
import type { CredInfo } from './credentials.js';
import type { FileStat, GroupEntry, SafeRead, UserEntry } from '../system/system.js';
import type { LoginSeen } from './login-end.js';

/** What a run wants: read from the config (status/sync) or from flags and prompts (init/add-user). */
export interface Desired {
  sharedDir: string;
  group: string;
  sourceUser: string;
  users: string[];
  items: SharedItem[];
  /** Create the group when it is missing (init). */
  createGroup: boolean;
  /** Users that this run creates (init/add-user); their homes are projected as empty in a dry run. */
  createUsers: string[];
  /** Seed missing shared copies from the source user (init). */
  seedFromSource: boolean;
  /**
   * Whose severed copies may become the shared copy: every managed user (sync, status), or only those already
   * managed before this run (init, add-user): an adopted account's own login is backed up, never promoted.
   */
  promoteFrom: 'all' | string[];
  keepSourceCopy: boolean;
  copyFullClaudeJson: boolean;
  /** Existing accounts that an interrupted init created and left without their password (the journal). */
  pendingPasswords?: string[];
  /** Backup runs older than this many days are pruned after a run that wrote backups (default 30). */
  backupKeepDays?: number;
  /** sync --accept-account: the freshest usable login wins whatever its account, and its account is pinned. */
  acceptAccount?: boolean;
  /** Only these users are examined and repaired (sync --user, add-user, the watcher). */
  onlyUsers?: string[];
  /** The managed users that are containers (server add-container): their accounts get no login shell. */
  containers?: string[];
}

/** What a member can multiply is counted, and only a few of its names are kept for the report. */
export interface Sample {
  count: number;
  names: string[];
}

export type ItemState = 'ok' | 'missing' | 'broken' | 'severed' | 'wrong-target' | 'not-a-file' | 'unsafe';

export interface ObservedItem {
  item: SharedItem;
  path: string;
  stat: FileStat | null;
  target?: string;
  state: ItemState;
  detail: string;
  /** Content of a severed copy that decides something (credentials, .claude.json). */
  read?: SafeRead;
}

export interface ObservedRc {
  path: string;
  stat: FileStat | null;
  hasBlock: boolean;
  problem?: string;
}

export interface ObservedUser {
  name: string;
  entry: UserEntry | null;
  inGroup: boolean;
  /** Why this home cannot be worked in safely, if so. */
  unsafe?: string;
  /** Looking at this home failed outright (unsafe says why): reported, never a failed run for the others. */
  failed?: boolean;
  homeStat: FileStat | null;
  claudeDir: FileStat | null;
  items: ObservedItem[];
  rc: ObservedRc[];
  /** ~/.claude.json.corrupted.* files: how many, and the first few names (printable). */
  corrupted: Sample;
}

export interface ObservedShared {
  item: SharedItem;
  path: string;
  stat: FileStat | null;
  read?: SafeRead;
  /** For a settings or .claude.json copy that is not valid JSON: the newest valid copy in the root-only backups. */
  lastGood?: { path: string; expect: Expect };
}

export interface ObservedSource {
  name: string;
  entry: UserEntry | null;
  files: Partial<Record<ItemId, { path: string; read: SafeRead }>>;
}

export interface Observed {
  nowMs: number;
  group: GroupEntry | null;
  dirs: { path: string; stat: FileStat | null; mode: number; uid: number; group: 'shared' | 'root' }[];
  insecureParent: string | null;
  shared: ObservedShared[];
  /**
   * When <shared>/home/.claude is not a directory (under layouts before 0.2 a member could move it and put something
   * there; now only root can): who owns what is there,
   * and the root-owned directories elsewhere in <shared>/home, one of which is the moved original.
   */
  intruder?: { stat: FileStat; owner: string; originals: string[] };
  /** Accounts an interrupted init created and left without a password (read only when this run has passwords). */
  journal: string[];
  /** The pinned shared account (root-only state; login-life.ts), or null before the first usable login. */
  pinnedAccount: string | null;
  /** When claude-share first saw the current shared login (root-only state; login-life.ts). */
  loginSeen: LoginSeen | null;
  /** Whatever is at <shared>/home/.claude.json, where layouts before 0.2 kept the shared .claude.json. */
  legacy?: { path: string; stat: FileStat };
  /** Leftover *.tmp.* files per shared directory: a member can make thousands, so counted, with a few names. */
  tempFiles: (Sample & { dir: string })[];
  users: ObservedUser[];
  source: ObservedSource | null;
  /** The long-lived token file (token mode, core/token.ts), as read; null when there is none. */
  token: SafeRead | null;
}

export type { ActionKind };

export interface Expect {
  ino: number;
  size: number;
  mtimeMs: number;
}

/** A file in a home (or root's) copied to the backup area before it is replaced, as it was when examined. */
export interface BackupFrom {
  path: string;
  owner: number;
  expect: Expect;
  rel: string;
}

/** Where a shared copy's new content comes from: a file as it was examined, or made up (no file read). */
export type ContentSource = { path: string; owner: number; expect?: Expect; filter?: 'claude-json-min' } | { path: ''; filter: 'empty-object' | 'safe-minimal' };

/** What every action has: what it repairs, where, and the before/after/reason every view shows. */
interface ActionCommon {
  /** The problem code this action repairs (status shows it). */
  code: ProblemCode;
  target: string;
  /** The member it is about, when it is about one. */
  user?: string;
  before: string;
  after: string;
  reason: string;
  /** The target of an earlier action that must have worked first (e.g. relink the winner only once it was promoted). */
  needs?: string;
}

/**
 * One step of a plan. A discriminated union: each kind carries exactly what applying it needs, so apply.ts reads
 * those fields without assertions and the compiler refuses a plan step missing one.
 */
export type Action = ActionCommon &
  (
    | { kind: 'create-group' | 'write-config' | 'remove-file' | 'archive-shared' }
    | { kind: 'make-claude-dir' | 'umask-block' | 'leave-group'; user: string }
    /** container: an account for a container (no login shell: nobody logs in as it). */
    | { kind: 'create-user'; user: string; container?: boolean }
    | { kind: 'set-passwords' | 'add-to-group'; members: string[] }
    /** rootGroup: owned by group root (the backups) rather than the shared group. */
    | { kind: 'make-dir'; mode: number; rootGroup: boolean }
    | { kind: 'fix-shared'; mode: number }
    | { kind: 'seed-shared'; source: ContentSource }
    /** backupShared: the shared copy being replaced is backed up first. */
    | { kind: 'promote-shared'; source: ContentSource; backupShared?: { rel: string; expect: Expect } }
    | { kind: 'retire-source'; user: string; backupFrom: BackupFrom }
    | { kind: 'set-aside'; backupFrom: BackupFrom }
    | { kind: 'restore-dir'; source: { path: string } }
    | { kind: 'move-legacy'; source: { path: string; expect: Expect } }
    /** guardToken: a severed login that may be promoted, re-checked against the shared copy right before relinking. */
    | { kind: 'link'; user: string; backupFrom?: BackupFrom; guardToken?: boolean }
    /** source: the private copy's content (none: the link just goes). */
    | { kind: 'privatize'; user: string; mode: number; source?: { path: string } }
    | { kind: 'delete-account'; user: string; removeHome: boolean }
  );

export type ActionOf<K extends ActionKind> = Extract<Action, { kind: K }>;
/** A filter that narrows: actions.filter(isKind('promote-shared')) are promote-shared actions to the compiler too. */
export const isKind =
  <K extends ActionKind>(...kinds: K[]) =>
  (a: Action): a is ActionOf<K> =>
    (kinds as ActionKind[]).includes(a.kind);
/** The accounts an action is about: its members, or its one user. */
export const usersOf = (a: Action): string[] => ('members' in a ? a.members : a.user ? [a.user] : []);

export type Severity = 'warning' | 'drift' | 'operator';

export interface Problem {
  code: ProblemCode;
  severity: Severity;
  user?: string;
  path?: string;
  message: string;
  fix: string;
}

export interface LoginHealth {
  state: CredInfo['state'];
  expiresAt?: number;
  refreshTokenExpiresAt?: number;
  subscriptionType?: string;
  /** When the login itself ends (login-life.ts): refreshTokenExpiresAt, or estimated from its first sighting. */
  endsAt?: number;
  endsAtEstimated?: boolean;
  /** Members whose severed login is of another account than the shared one (never promoted, relinked unguarded). */
  otherAccount?: string[];
  /** The shared token expired and a member's refresh of it failed since (a logged-out stub newer than it). */
  refreshFailed?: boolean;
  /** The account of the shared login ('' when it names none). */
  account?: string;
  newerSevered: number;
  /** Who holds the freshest usable login ('shared' or a user name), if anyone. */
  freshest?: string;
}

/** The long-lived token as status shows it: never the token itself. */
export interface TokenHealth {
  masked: string;
  setAtMs: number;
  daysLeft: number;
  ok: boolean;
}

export interface Plan {
  actions: Action[];
  problems: Problem[];
  login: LoginHealth;
  /** null: no token mode here (links only). */
  token?: TokenHealth | null;
}

export type OutcomeKind = 'created' | 'unchanged' | 'replaced' | 'backed-up' | 'conflict' | 'failed';

export interface Outcome {
  action: Action;
  result: OutcomeKind;
  message?: string;
  backups: string[];
}
