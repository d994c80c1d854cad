import type { Problem, Severity } from './model.js';

/**
 * Every code that status, sync and the other commands report, with what it means and how it is fixed.
 * The README's troubleshooting table is checked against this list by a unit test.
 */
export const PROBLEM_CODES = {
  // Drift: `claude-share sync` repairs these (status exits 1).
  missing: 'a link (or ~/.claude) is missing in a home. sync recreates it.',
  broken: 'a link points at a shared copy that does not exist. sync creates the shared copy (promoted or empty) and keeps the link.',
  severed: 'a private file replaced the link (Claude does this at every token refresh). sync promotes it if it holds the freshest valid token of the shared account, backs it up, and relinks.',
  'wrong-target': 'a link points somewhere else. sync replaces the link; nothing behind the old target is touched.',
  'not-in-group': 'a member is not in the group (per the group database). sync adds them; they must log in again.',
  'newer-login-in-home': "a member's severed copy holds a newer token than the shared copy. sync promotes it.",
  'permission-drift': 'a shared file lacks group read/write or has the wrong group (e.g. chmod 0600 by an old Claude): members look logged out. sync restores group and 0660.',
  'shared-mode': 'a shared file is readable by others or has extra mode bits. sync sets 0660.',
  'shared-missing': 'a shared copy does not exist. sync promotes the newest valid member copy or creates {}.',
  'shared-dir-missing': 'a shared directory is missing. sync creates it.',
  'shared-dir-mode': 'a shared directory has the wrong owner, group or mode. sync restores root:<group> 2770 for <shared>/home/.claude, 2750 for the shared dir and <shared>/home, 0700 for backups.',
  'legacy-layout':
    'the shared .claude.json is still in <shared>/home (layouts before 0.2, where members could rename the shared directories). sync moves it into <shared>/home/.claude, makes <shared>/home 2750 and relinks every member.',
  'umask-missing': 'the umask 002 block is missing from ~/.bashrc or ~/.profile. sync adds it.',
  // Need an operator (status exits 2).
  'no-login': 'no copy of the login exists, or every copy is logged out. Log in once as a member (claude, then /login), then run sync.',
  'logged-out':
    "the shared copy is a logged-out stub and no member holds a valid login, or its token expired and a member's Claude wrote a logged-out copy more than a minute later (the refresh failed: a /logout revoked the login for everyone, or it ended; those copies are kept, the oldest names who was first). Log in again as one member, then run sync.",
  'credentials-invalid': 'the shared credentials are not JSON and no member holds a valid copy. Log in again as one member, then run sync.',
  'ambiguous-account':
    'the shared credentials name no account and members hold logins of different accounts, so none can be trusted as the shared one. Log in again as one member with the shared account, then run sync.',
  'shared-invalid': 'a shared settings or .claude.json file is empty or not JSON and no member has a valid copy. Repair or remove it, then run sync.',
  'shared-not-regular': 'a shared copy is a directory, link or device. Move it away, then run sync.',
  'shared-hard-linked': 'a shared copy has more than one hard link. Copy it to a fresh file, then run sync.',
  'shared-dir-insecure': 'the shared directory or one of its parents is a symlink, not owned by root, or writable by group or others. Fix ownership and modes; init and sync refuse to act until then.',
  'group-missing': 'the group in the config does not exist. Run server init.',
  'user-missing': 'a managed user does not exist. Re-create it with add-user or remove it from MANAGED_USERS (remove-user).',
  'home-missing': "a managed user's home does not exist. Create it (mkhomedir_helper USER), then run sync.",
  'home-unsafe': "a managed user's home is not a directory owned by that user. Fix the owner; nothing is done there until then.",
  'unsafe-path':
    "a path in a home is not safe to touch: ~/.claude is a link or someone else's, or a file there is hard-linked, someone else's or over the size cap. Inspect it and move it away as the user.",
  'not-a-file': 'a directory, FIFO or device sits where a link belongs. Move it away as the user, then run sync.',
  'token-invalid':
    'the long-lived token file (/etc/claude-share/oauth-token) is not a setup-token, or not root:<group> 0640, or unreadable: members and agents that use it are refused. Set it again: claude setup-token, then claude-share server token set.',
  'token-expired':
    'the long-lived token is more than a year old (setup-token gives one year, counted from when it was set here): agents using it are refused. Make a new one (claude setup-token), then claude-share server token set.',
  'member-logged-out':
    "doctor: the installed claude, run as the member (claude auth status), says not logged in. If status reports the shared login as usable, the member's links, groups or the shared files' modes keep Claude from reading it: run sync and see the member's other doctor lines (a session without the group). Otherwise renew the login: claude-share login.",
  // Warnings: reported, never fatal.
  'other-account-login': 'a member logged in to another account; sync backs that login up and relinks the shared one. Tell them, or remove them.',
  'shared-runs-commands': 'shared settings have hooks or apiKeyHelper, or .claude.json has mcpServers: these run commands as every member. Review them.',
  'leftover-temp': 'a Claude temp file (*.tmp.*) was left in the shared directory by an interrupted write. Remove it when no claude runs.',
  'claude-json-corrupted': 'Claude found .claude.json corrupted by concurrent writes and saved this copy. Check the shared .claude.json, then remove the file.',
  'shared-intruder':
    'a file or link is in place of <shared>/home/.claude (only possible for members under layouts before 0.2, where <shared>/home was group-writable). sync moves it to root-only <shared>/set-aside (never among the backups), puts the real directory back when it finds it, or makes a new one, and names the member.',
  'rc-unsafe': "~/.bashrc or ~/.profile is a link or not the user's own file, so the umask block is not written through it. Replace it with a regular file.",
  'login-ending':
    'the shared login ends within 7 days (a login lives about 30 days, refreshes do not extend it; the end is refreshTokenExpiresAt, or estimated from when claude-share first saw the login). status exits 1. Before then one member logs in again (claude, then /login), then sync.',
  'token-ending':
    'the long-lived token ends within 30 days (one year after it was set here). status exits 1. Make a new one (claude setup-token) and set it (claude-share server token set) before then.',
  'session-without-group':
    'doctor: processes of a member run without the shared group (started before the member joined it): Claude there cannot read the shared login and looks logged out. The member logs out and back in, every session (tmux and screen too); never /login there. doctor exits 1.',
  'session-umask':
    "doctor: processes of a member run with a umask that takes group read or write away (077, say): what Claude writes there into the shared copies loses group access until the next heal. The umask block works from the next login; if it is there already, something later in the member's start files overrides it. doctor exits 1.",
  'claude-not-found':
    "doctor: no claude that only root could have installed (root-owned, every directory to it too) is on root's PATH, so the live check (claude auth status as each member) was skipped. Install it system-wide (npm install -g @anthropic-ai/claude-code), or pass --claude PATH.",
  'claude-check-failed':
    'doctor: claude auth status (or claude --version), run as the member, did not answer: it timed out, crashed, or printed something that is not its JSON. Run it by hand as the member to see why. doctor exits 1.',
  'usage-receiver-down':
    "usage is enabled (claude-share usage enable) but its receiver has not written its heartbeat for 2 minutes, or its process is gone: Claude Code's usage is not recorded meanwhile. Start it (systemctl restart claude-share-usage, or claude-share usage receive as root); see its log (journalctl -u claude-share-usage). status exits 1.",
  'usage-silent':
    'usage: the member started Claude sessions in the last 7 days (new transcripts under ~/.claude/projects) after their last report reached the receiver: their client sent no telemetry (a version without it, switched off in ways the drop-in cannot stop, or the receiver was down). Ask them; README, "Who used what".',
  'usage-dropped':
    "usage: the receiver refused or did not store some of a member's telemetry in the last 7 days (more than its rate, size or daily limits: a flood, or a very busy member). Their counts are low by that much; the number is in claude-share usage.",
  'login-not-copied':
    'remove-user and uninstall give leaving users no copy of the shared login (its refresh token is single-use: a copy would log the others out at its first refresh); they run claude and /login with their own account. uninstall --keep-login USER hands the live login to that one user.',
  // Internal action codes (never problems in status).
  config: 'the config file is written.',
  'source-copy': "the source user's private credentials are moved to the backups (init).",
  leaving: 'a user leaves the shared login (remove-user, uninstall).',
  uninstall: 'a file of claude-share itself is removed (uninstall).',
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** The severity a code is filed under above (the registry's order: drift, operator, warning, internal). */
export function severityOf(code: ProblemCode): 'drift' | 'operator' | 'warning' | 'internal' {
  const keys = Object.keys(PROBLEM_CODES);
  const i = keys.indexOf(code);
  return i < keys.indexOf('no-login') ? 'drift' : i < keys.indexOf('other-account-login') ? 'operator' : i < keys.indexOf('config') ? 'warning' : 'internal';
}
export const INTERNAL_CODES: ProblemCode[] = ['config', 'source-copy', 'leaving', 'uninstall'];
/** Found by doctor only (it runs the member's client and reads their processes); status never reports them. */
export const DOCTOR_CODES: ProblemCode[] = ['member-logged-out', 'session-without-group', 'session-umask', 'claude-not-found', 'claude-check-failed'];
/** Warnings that still make status and doctor exit 1: nothing sync can do, but someone must act soon. */
export const EXIT_1_WARNINGS: ProblemCode[] = ['login-ending', 'token-ending', 'session-without-group', 'session-umask', 'claude-check-failed', 'usage-receiver-down'];

/** What a problem is built from: its severity is the one its code is filed under above, unless the call says otherwise. */
export type ProblemInput = Omit<Problem, 'severity'> & { severity?: Severity };

/** A problem with the severity of its code (the registry decides; the few contextual overrides are written at the call). */
export function problem(x: ProblemInput): Problem {
  const filed = severityOf(x.code);
  return { ...x, severity: x.severity ?? (filed === 'internal' ? 'warning' : filed) };
}
