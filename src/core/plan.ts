import { planToken } from './token.js';
import { accountOfClaudeJson, inspectCredentials, isUsable, pickFreshestCredentials, sameAccount, type Candidate } from './credentials.js';
import { homePath, MAX_READ_BYTES, RC_FILES, sharedDirs, sharedPath, sharedStore, type SharedItem } from './items.js';
import type { Action, Desired, Expect, LoginHealth, Observed, ObservedShared, ObservedUser, Plan, Problem, Sample } from './model.js';
import type { FileStat, SafeRead } from '../system/system.js';
import { isoOf, parseJsonBounded, shellQuote } from './untrusted.js';
import { printable } from './validate.js';
import { LOGIN_WARN_MS, loginEnd } from './login-end.js';
import { problem, type ProblemInput } from './problem-codes.js';

const SYNC = 'run: claude-share sync';
export const SHARED_FILE_MODE = 0o660;

/** Pure: from what is wanted and what is there, the ordered actions and the problems only a human can fix. */
export function plan(d: Desired, obs: Observed): Plan {
  const p = planLinks(d, obs);
  const token = planToken(obs);
  return { ...p, problems: [...p.problems, ...token.problems], token: token.health };
}

function planLinks(d: Desired, obs: Observed): Plan {
  const actions: Action[] = [];
  const problems: Problem[] = [];
  const login: LoginHealth = { state: 'missing', newerSevered: 0 };
  const p = (x: ProblemInput) => problems.push(problem(x));

  if (obs.insecureParent) {
    p({
      code: 'shared-dir-insecure',
      path: d.sharedDir,
      message: `the shared directory is not safe: ${obs.insecureParent}`,
      fix: 'make every parent of the shared directory root-owned and not writable by group or others',
    });
    return { actions, problems, login };
  }

  // Accounts.
  const groupWillExist = !!obs.group || d.createGroup;
  if (!obs.group) {
    if (d.createGroup) actions.push({ kind: 'create-group', code: 'group-missing', target: d.group, before: 'absent', after: 'present', reason: 'the shared group does not exist' });
    else p({ code: 'group-missing', message: `group ${d.group} does not exist`, fix: 'run: claude-share server init' });
  }
  // Sets: init of 5,000 new users asks each of them (lists made these O(n²)).
  const toCreate = new Set(d.createUsers);
  const created = obs.users.filter((u) => !u.entry && toCreate.has(u.name)).map((u) => u.name);
  const isCreated = new Set(created);
  for (const name of created)
    actions.push(
      d.containers?.includes(name)
        ? { kind: 'create-user', code: 'user-missing', target: name, user: name, container: true, before: 'absent', after: 'account with a home and no login shell', reason: 'new container' }
        : { kind: 'create-user', code: 'user-missing', target: name, user: name, before: 'absent', after: 'account with home and /bin/bash', reason: 'new managed user' },
    );
  // Accounts an interrupted init created but never gave their password (the journal names them) get it now.
  const pending = (d.pendingPasswords ?? []).filter((n) => obs.journal.includes(n) && !isCreated.has(n) && obs.users.some((u) => u.name === n && u.entry));
  const pw = [...created, ...pending];
  if (pw.length)
    actions.push({
      kind: 'set-passwords',
      code: 'user-missing',
      target: pw.join(','),
      members: pw,
      before: 'no password',
      after: 'password set',
      reason: pending.length ? `one chpasswd call, passwords on stdin (${pending.join(', ')}: created by an interrupted init)` : 'one chpasswd call, passwords on stdin',
    });
  for (const u of obs.users) {
    if (!u.entry && !isCreated.has(u.name))
      p({
        code: 'user-missing',
        user: u.name,
        message: `user ${u.name} does not exist`,
        fix: `create it (claude-share server add-user ${u.name}) or remove it from MANAGED_USERS`,
      });
  }
  const joiners = obs.users.filter((u) => (u.entry || isCreated.has(u.name)) && !u.inGroup).map((u) => u.name);
  if (obs.source?.entry && obs.source.name !== 'root' && !obs.group?.members.includes(obs.source.name) && !joiners.includes(obs.source.name)) joiners.push(obs.source.name);
  if (joiners.length && groupWillExist) {
    actions.push({
      kind: 'add-to-group',
      code: 'not-in-group',
      target: d.group,
      members: joiners,
      before: 'not members',
      after: `members: ${joiners.join(', ')}`,
      reason: 'members need the group to read and write the shared files',
    });
  }

  // Shared directories.
  for (const dir of sharedDirs(d.sharedDir)) {
    let st = obs.dirs.find((x) => x.path === dir.path)?.stat ?? null;
    if (st && st.type !== 'dir' && obs.intruder && dir.path === sharedStore(d.sharedDir)) {
      // <shared>/home is root's alone, but under layouts before 0.2 members could rename entries there: inside the
      // tool's own tree root sets what was put in place of .claude aside and restores the directory.
      const { owner, originals } = obs.intruder;
      actions.push({
        kind: 'set-aside',
        code: 'shared-intruder',
        target: dir.path,
        user: owner.startsWith('uid ') ? undefined : owner,
        before: `a ${st.type} of ${owner}`,
        after: "moved to <shared>/set-aside (root-only, still its owner's)",
        reason: `${owner} put it in place of the shared directory`,
        backupFrom: { path: dir.path, owner: st.uid, expect: expectOf(st), rel: `set-aside/.claude.${owner.replace(/ /g, '')}` },
      });
      p({
        code: 'shared-intruder',
        user: owner.startsWith('uid ') ? undefined : owner,
        path: dir.path,
        message: `${owner} replaced ${dir.path} by a ${st.type}${originals.length === 1 ? ` and moved the real one to ${printable(originals[0])}` : ''}; sync moves it to <shared>/set-aside and restores the directory`,
        fix: `${SYNC}; then ask ${owner} why`,
      });
      if (originals.length === 1) {
        actions.push({
          kind: 'restore-dir',
          code: 'shared-intruder',
          target: dir.path,
          before: `moved to ${printable(originals[0])}`,
          after: 'back in place',
          reason: 'the real shared directory (root-owned) was renamed by a member',
          source: { path: originals[0] },
        });
        continue;
      }
      st = null;
    }
    if (st && st.type !== 'dir') {
      p({ code: 'shared-dir-insecure', path: dir.path, message: `${dir.path} is a ${st.type}, not a directory`, fix: `move it away, then ${SYNC}` });
      return { actions, problems, login };
    }
    const gidOk = dir.group === 'root' ? st?.gid === 0 : st?.gid === obs.group?.gid;
    if (!st || st.uid !== dir.uid || !gidOk || st.mode !== dir.mode) {
      actions.push({
        kind: 'make-dir',
        code: st ? 'shared-dir-mode' : 'shared-dir-missing',
        target: dir.path,
        mode: dir.mode,
        rootGroup: dir.group === 'root',
        before: st ? describeStat(st) : 'absent',
        after: `root:${dir.group === 'root' ? 'root' : d.group} ${oct(dir.mode)}`,
        reason: st ? 'owner or mode drifted' : 'needed for the shared copies',
      });
    }
  }

  // Layouts before 0.2: the shared .claude.json moves into the shared .claude directory (members' links follow as
  // wrong targets); a second one there goes to the backups. Renames: O(1) whatever it is, a link never followed.
  const store = obs.dirs.find((x) => x.path === sharedStore(d.sharedDir))?.stat;
  if (obs.legacy && store?.type === 'dir') {
    const { path: from, stat: lst } = obs.legacy;
    const to = obs.shared.find((s) => s.item.id === 'claude-json');
    const reason = 'layouts before 0.2 kept it in <shared>/home, which members could then write';
    if (to && !to.stat && lst.type === 'file' && lst.nlink === 1) {
      actions.push({ kind: 'move-legacy', code: 'legacy-layout', target: to.path, before: `at ${from}`, after: `at ${to.path}`, reason, source: { path: from, expect: expectOf(lst) } });
    } else {
      actions.push({
        kind: 'set-aside',
        code: 'legacy-layout',
        target: from,
        before: `a ${lst.type}${to?.stat ? `, besides ${to.path}` : ''}`,
        after: "moved to <shared>/set-aside (root-only, still its owner's)",
        reason,
        backupFrom: { path: from, owner: lst.uid, expect: expectOf(lst), rel: 'set-aside/.claude.json.legacy' },
      });
    }
    return { actions, problems, login };
  }

  // With the shared directory being put back, nothing below it is known yet: the rest waits for the next look
  // (converge looks again right after), so a fresher token in a home is never relinked over before it is compared.
  if (actions.some((a) => a.kind === 'set-aside')) return { actions, problems, login };

  // Shared copies.
  for (const sh of obs.shared) planSharedItem(d, obs, sh, actions, p, login);
  for (const t of obs.tempFiles) {
    p({
      code: 'leftover-temp',
      path: t.dir,
      message: `${t.count} leftover temp file${t.count > 1 ? 's' : ''} in ${t.dir} (interrupted Claude writes): ${sampleText(t)}`,
      fix: `once no claude process is running: rm -i -- ${shellQuote(t.dir)}/*.tmp.*`,
    });
  }

  // Homes.
  const promotedFrom = new Set(actions.filter((a) => a.kind === 'promote-shared').map((a) => a.source!.path));
  for (const u of obs.users) planHome(d, u, isCreated.has(u.name), actions, p, promotedFrom, obs.nowMs, !!login.refreshFailed, login.otherAccount?.includes(u.name));
  return { actions, problems, login };
}

function planSharedItem(d: Desired, obs: Observed, sh: ObservedShared, actions: Action[], p: (x: ProblemInput) => void, login: LoginHealth) {
  const { item, path, stat } = sh;
  if (stat && stat.type !== 'file') {
    p({ code: 'shared-not-regular', path, message: `shared copy ${path} is a ${stat.type}, not a regular file`, fix: `move it away, then ${SYNC}` });
    return;
  }
  if (stat && stat.nlink > 1) {
    p({
      code: 'shared-hard-linked',
      path,
      message: `shared copy ${path} has ${stat.nlink} hard links`,
      fix: `copy it (cp --preserve=mode ${shellQuote(path)} ${shellQuote(path + '.new')} && mv ${shellQuote(path + '.new')} ${shellQuote(path)}), then ${SYNC}`,
    });
    return;
  }
  if (sh.read && !sh.read.ok) {
    const why = sh.read.reason === 'too-large' ? `is ${stat!.size} bytes, over the ${MAX_READ_BYTES}-byte cap` : `could not be read (${sh.read.reason})`;
    p({ code: 'shared-invalid', path, message: `shared copy ${path} ${why}`, fix: `look at it, then replace it (for credentials: log in again as one member) and ${SYNC}` });
    return;
  }
  const sharedBytes = sh.read?.ok ? sh.read.bytes : null;
  const severed = obs.users.flatMap((u) => u.items.filter((i) => i.item.id === item.id && i.state === 'severed' && i.read?.ok).map((i) => ({ u, i })));
  const eligible = severed.filter(({ u }) => d.promoteFrom === 'all' || d.promoteFrom.includes(u.name));
  let replaced = false;
  const backupShared = stat ? { rel: item.rel, expect: expectOf(stat) } : undefined;

  if (item.id === 'credentials') {
    const sharedJson = obs.shared.find((s) => s.item.id === 'claude-json');
    const sharedJsonAccount = accountOfClaudeJson(readOf(sharedJson?.read));
    const sharedInfo = inspectCredentials(sharedBytes, obs.nowMs);
    // The shared login's account is the pinned one, never re-derived from the shared .claude.json: a member's /login
    // with another account rewrites its oauthAccount through the link. --accept-account lifts the pin for this run.
    const pinned = d.acceptAccount ? null : obs.pinnedAccount;
    const shared: Candidate = d.acceptAccount
      ? { from: 'shared', info: { ...sharedInfo, accountUuid: undefined }, claudeJsonAccount: undefined }
      : { from: 'shared', info: pinned ? { ...sharedInfo, accountUuid: pinned } : sharedInfo, claudeJsonAccount: pinned ?? sharedJsonAccount };
    const toCandidate = ({ u, i }: (typeof severed)[number]): Candidate => ({
      from: u.name,
      info: inspectCredentials(readOf(i.read), obs.nowMs),
      // A member whose .claude.json is still the link wrote her account into the shared one (Claude rewrites it at
      // every start): that is her account's evidence when her credentials do not name one (versions up to 2.1.118).
      claudeJsonAccount: claudeJsonAccountOf(u) ?? (u.items.find((x) => x.item.id === 'claude-json')?.state === 'ok' ? sharedJsonAccount : undefined),
    });
    if (pinned && sharedJsonAccount && sharedJsonAccount !== pinned) {
      const owner = obs.users.find((u) => u.entry && u.entry.uid === sharedJson?.stat?.uid)?.name;
      p({
        code: 'other-account-login',
        user: owner,
        path: sharedJson!.path,
        message: `the shared .claude.json names account ${printable(sharedJsonAccount)}, the shared login is account ${printable(pinned)}${owner ? `: ${owner} logged in with another account through the link` : ''}; no login of that account is promoted`,
        fix: `${owner ? `ask ${owner} to log in again with the shared account, ` : ''}or make that account the shared one on purpose: claude-share sync --accept-account`,
      });
    }
    const cands = severed.map(toCandidate);
    const choice = pickFreshestCredentials(shared, eligible.map(toCandidate));
    login.state = sharedInfo.state;
    login.expiresAt = shared.info.expiresAt;
    login.refreshTokenExpiresAt = shared.info.refreshTokenExpiresAt;
    login.subscriptionType = shared.info.subscriptionType;
    // The account the shared copy holds now (what gets pinned after a run): its own accountUuid, else the pin, else
    // the shared .claude.json's.
    login.account = sharedInfo.accountUuid ?? pinned ?? sharedJsonAccount ?? '';
    const end = loginEnd(login, obs.loginSeen, login.account, obs.nowMs);
    if (end) {
      login.endsAt = end.endsAt;
      login.endsAtEstimated = end.estimated;
      const days = Math.max(0, Math.floor((end.endsAt - obs.nowMs) / 86400_000));
      if (end.endsAt - obs.nowMs < LOGIN_WARN_MS) {
        p({
          code: 'login-ending',
          path,
          message: `the shared login ends ${end.endsAt <= obs.nowMs ? 'now' : `in ${days} day${days === 1 ? '' : 's'}`} (${iso(end.endsAt)}${end.estimated ? ', estimated: 30 days after claude-share first saw it' : ''}); then every member is logged out`,
          fix: 'before then, log in again as one member (su - USER -c claude, then /login), then run: claude-share sync',
        });
      }
    }
    const sharedExpiry = isUsable(shared.info) ? shared.info.expiresAt! : 0;
    login.newerSevered = cands.filter((c) => isUsable(c.info) && c.info.expiresAt! > sharedExpiry && sameAccount(shared, c)).length;
    login.freshest = choice.winner?.from;
    if (choice.rejected.some((r) => r.reason === 'ambiguous-account')) {
      p({
        code: 'ambiguous-account',
        path,
        message: `the shared login names no account, and members hold logins of different accounts (${choice.rejected
          .filter((r) => r.reason === 'ambiguous-account')
          .map((r) => r.candidate.from)
          .join(', ')}); none is promoted`,
        fix: 'log in again as one member with the shared account (claude, then /login), then run: claude-share sync',
      });
    }
    login.otherAccount = choice.rejected.filter((r) => r.reason === 'other-account').map((r) => r.candidate.from);
    for (const r of choice.rejected) {
      if (r.reason === 'other-account')
        p({
          code: 'other-account-login',
          user: r.candidate.from,
          message: `${r.candidate.from} logged in to another account; that login is backed up and replaced by the shared one`,
          fix: `tell ${r.candidate.from} to use the shared login, or remove them (claude-share server remove-user ${r.candidate.from}), or make that account the shared one on purpose: claude-share sync --accept-account`,
        });
    }
    const w = choice.winner;
    // The shared token expired and a member's client, trying to refresh it, then wrote a logged-out stub: that
    // refresh failed (a /logout revoked the login for everyone, or it ended). The stub never wins, so without this
    // the shared copy would still look refreshable. The oldest stub names who was logged out first.
    const stubs = severed.filter((_, k) => cands[k].info.state === 'logged-out').sort((a, b) => a.i.stat!.mtimeMs - b.i.stat!.mtimeMs);
    // Both after the shared copy was last written and more than a minute after its access token expired: the loser of
    // a race writes its stub right after the winner's token was promoted, or right at an expiry (seen with the real
    // 2.1.330 and short-lived tokens), and that login is alive.
    const failedAfter = Math.max(stat?.mtimeMs ?? 0, (shared.info.expiresAt ?? 0) + STUB_AFTER_EXPIRY_MS);
    if (shared.info.state === 'expired-refreshable' && (!w || w.from === 'shared') && stat && stubs.some((s) => s.i.stat!.mtimeMs > failedAfter)) {
      login.refreshFailed = true;
      p({
        code: 'logged-out',
        path,
        message: `the shared login could not be refreshed: after its access token expired, Claude wrote a logged-out copy for ${stubs.map((s) => s.u.name).join(', ')} (the login was revoked, e.g. by a /logout, or has ended); the first is ${stubs[0].u.name}'s (${iso(stubs[0].i.stat!.mtimeMs)})`,
        fix: 'log in again as one member (claude, then /login), then run: claude-share sync',
      });
    }
    if (w && w.from !== 'shared') {
      const src = severed.find((s) => s.u.name === w.from)!;
      actions.push({
        kind: 'promote-shared',
        code: 'newer-login-in-home',
        target: path,
        user: w.from,
        before: `shared login expires ${iso(shared.info.expiresAt)}`,
        after: `login from ${w.from}, expires ${iso(w.info.expiresAt)}`,
        reason: `${w.from}'s copy holds the freshest valid token (Claude replaced the link at a token refresh)`,
        source: { path: src.i.path, owner: src.u.entry!.uid, expect: expectOf(src.i.stat!) },
        backupShared,
      });
      replaced = true;
    } else if (!stat && d.seedFromSource) {
      replaced = seedFromSource(d, obs, item, path, actions);
    }
    if (!w && !replaced) {
      const state = shared.info.state;
      const anyStub = cands.some((c) => c.info.state === 'logged-out');
      // The audit trail: a stub is its writer's own file, so the oldest one names who was logged out first (a
      // /logout, which revokes the login for everyone, or the first refresh that failed).
      const first = stubs.length ? `; the first logged-out copy is ${stubs[0].u.name}'s (${iso(stubs[0].i.stat!.mtimeMs)})` : '';
      if (state === 'missing')
        p({
          code: 'no-login',
          // init links before anyone logged in on purpose (the note after it says what to do): not an error there.
          severity: d.seedFromSource ? 'warning' : 'operator',
          path,
          message: anyStub ? `every copy of the login is logged out${first}` : 'nobody has logged in to Claude yet',
          fix: 'log in once as a member (su - USER -c claude, then /login), then run: claude-share sync',
        });
      else if (state === 'logged-out')
        p({
          code: 'logged-out',
          path,
          message: `the shared login is logged out (a failed refresh or a /logout left a stub)${first}`,
          fix: 'log in again as one member (claude, then /login), then run: claude-share sync',
        });
      else if (state === 'invalid-json')
        p({
          code: 'credentials-invalid',
          path,
          message: 'the shared credentials are not valid JSON',
          fix: 'log in again as one member (claude, then /login), then run: claude-share sync',
        });
    }
  } else {
    // Only credentials are ever promoted from a home: a member's private .claude.json holds its own mcpServers
    // secrets and project paths, which must never become group-readable. A broken shared copy is rebuilt from the
    // last good shared copy in the root-only backups, else from a minimal safe document; it is backed up first.
    if (!stat) {
      if (d.seedFromSource) replaced = seedFromSource(d, obs, item, path, actions);
      if (!replaced) {
        actions.push({
          kind: 'seed-shared',
          code: 'shared-missing',
          target: path,
          before: 'absent',
          after: '{}',
          reason: 'an empty shared copy keeps the group mode when Claude first writes it',
          source: { path: '', filter: 'empty-object' },
        });
        replaced = true;
      }
    } else if (sh.read?.ok && !(sharedBytes!.length > 0 && isJson(sharedBytes!))) {
      const from = sh.lastGood;
      actions.push({
        kind: 'promote-shared',
        code: 'shared-invalid',
        target: path,
        before: 'empty or invalid JSON',
        after: from ? `last good copy, ${from.path}` : `a minimal document (${SAFE_MINIMAL[item.id] ?? '{}'})`,
        reason: "a broken shared copy is rebuilt from shared copies only, never from a member's private file; the broken one is backed up",
        source: from ? { path: from.path, owner: 0, expect: from.expect } : { path: '', filter: 'safe-minimal' },
        backupShared,
      });
      replaced = true;
    }
    warnCommands(item, sharedBytes, path, p);
  }

  if (stat && !replaced) {
    const gid = obs.group?.gid;
    if (stat.gid !== gid || stat.mode !== SHARED_FILE_MODE) {
      const lacksGroup = (stat.mode & 0o060) !== 0o060 || stat.gid !== gid;
      actions.push({
        kind: 'fix-shared',
        code: lacksGroup ? 'permission-drift' : 'shared-mode',
        target: path,
        mode: SHARED_FILE_MODE,
        before: describeStat(stat),
        after: `group ${d.group}, ${oct(SHARED_FILE_MODE)}`,
        reason: lacksGroup ? 'some members cannot read or write it: to Claude they look logged out' : 'others must not read the shared login',
      });
    }
  }
}

function seedFromSource(d: Desired, obs: Observed, item: SharedItem, path: string, actions: Action[]): boolean {
  const src = obs.source?.files[item.id];
  if (!src?.read.ok) return false;
  const filter = item.id === 'claude-json' && !d.copyFullClaudeJson ? 'claude-json-min' : undefined;
  actions.push({
    kind: 'seed-shared',
    code: 'shared-missing',
    target: path,
    user: obs.source!.name,
    before: 'absent',
    after: `copy of ${src.path}${filter ? ' (account and onboarding fields only)' : ''}`,
    reason: 'seeded from the source user',
    source: { path: src.path, owner: obs.source!.entry!.uid, expect: expectOf(src.read.stat), filter },
  });
  if (item.id === 'credentials' && obs.source!.name === 'root' && !d.keepSourceCopy) {
    actions.push({
      kind: 'retire-source',
      code: 'source-copy',
      target: src.path,
      user: 'root',
      needs: path,
      before: 'root has a private copy',
      after: 'moved to the backup area',
      reason: 'two copies of one single-use refresh token fork at the first refresh; root now needs its own login',
      backupFrom: { path: src.path, owner: 0, expect: expectOf(src.read.stat), rel: item.rel },
    });
  }
  return true;
}

/** A logged-out stub this long after the shared token expired means the refresh of the shared login failed. */
export const STUB_AFTER_EXPIRY_MS = 60_000;

/** How long a private credentials file that does not parse yet is given to be completed by its writer. */
export const WRITE_SETTLE_MS = 2000;

function planHome(d: Desired, u: ObservedUser, creating: boolean, actions: Action[], p: (x: ProblemInput) => void, promotedFrom: Set<string>, nowMs: number, keepStubs = false, otherAccount = false) {
  if (!u.entry && !creating) return;
  const home = u.entry?.home ?? `/home/${u.name}`;
  if (u.failed) {
    p({ code: 'unsafe-path', user: u.name, path: home, message: u.unsafe!, fix: `inspect ${shellQuote(home)}; the other members are healed meanwhile` });
    return;
  }
  if (u.unsafe) {
    p({
      code: u.homeStat ? 'home-unsafe' : 'home-missing',
      user: u.name,
      path: home,
      message: u.unsafe,
      fix: u.homeStat ? `fix the owner: chown ${u.name}: ${shellQuote(home)}` : `create it: mkhomedir_helper ${u.name}`,
    });
    return;
  }
  if (!u.claudeDir)
    actions.push({
      kind: 'make-claude-dir',
      code: 'missing',
      target: `${home}/.claude`,
      user: u.name,
      before: 'absent',
      after: 'directory owned by the user, 0700',
      reason: 'holds the links',
    });
  for (const it of u.items) {
    const target = sharedPath(d.sharedDir, it.item);
    const path = u.entry ? it.path : homePath(home, it.item);
    switch (it.state) {
      case 'ok':
        break;
      case 'missing':
      case 'broken':
      case 'wrong-target':
        actions.push({
          kind: 'link',
          code: it.state,
          target: path,
          user: u.name,
          before: it.state === 'wrong-target' ? `link ${it.detail}` : it.state,
          after: `link to ${target}`,
          reason: it.state === 'wrong-target' ? 'nothing behind the old target is touched' : it.detail,
        });
        break;
      case 'severed':
        // A private credentials file that does not parse and was written in the last 2 s may be a write still going
        // on (an in-place write truncates first): relinking now would orphan the tokens about to be written.
        if (it.item.id === 'credentials' && inspectCredentials(readOf(it.read), nowMs).state === 'invalid-json' && nowMs - it.stat!.mtimeMs < WRITE_SETTLE_MS) {
          p({
            code: 'severed',
            // Not drift yet: nothing is done about it in this pass.
            severity: 'warning',
            user: u.name,
            path,
            message: `${path} is being written (changed ${nowMs - it.stat!.mtimeMs} ms ago, not complete JSON yet); healed once it is`,
            fix: SYNC,
          });
          break;
        }
        // While the shared login is known dead, the logged-out copies are the evidence of who was logged out first
        // (status reports them): relinking them to a dead login would gain nothing and erase that.
        if (keepStubs && it.item.id === 'credentials' && inspectCredentials(readOf(it.read), nowMs).state === 'logged-out') break;
        // The promoted copy is only relinked once the shared copy holds it: it may be the only live token.
        actions.push({
          kind: 'link',
          code: 'severed',
          target: path,
          user: u.name,
          before: 'private file',
          after: `link to ${target}`,
          reason: 'a private copy replaced the link; it is backed up first',
          backupFrom: { path, owner: u.entry!.uid, expect: expectOf(it.stat!), rel: it.item.rel },
          needs: promotedFrom.has(path) ? target : undefined,
          guardToken: it.item.id === 'credentials' && !otherAccount && (d.promoteFrom === 'all' || d.promoteFrom.includes(u.name)) ? true : undefined,
        });
        break;
      case 'not-a-file':
        p({ code: 'not-a-file', user: u.name, path, message: `${path}: ${it.detail}`, fix: `move it away as ${u.name}, then ${SYNC}` });
        break;
      case 'unsafe':
        p({ code: 'unsafe-path', user: u.name, path, message: `${path}: ${it.detail}; refusing to touch it`, fix: `inspect it; as ${u.name}, move it away, then ${SYNC}` });
        break;
    }
  }
  const rcs = u.entry ? u.rc : RC_FILES.map((f) => ({ path: `${home}/${f}`, stat: null, hasBlock: false, problem: undefined }));
  for (const rc of rcs) {
    if (rc.problem)
      p({
        code: 'rc-unsafe',
        user: u.name,
        path: rc.path,
        message: `${rc.problem}; the umask block is not written through it`,
        fix: `replace it with a regular file owned by ${u.name}`,
      });
    else if (!rc.hasBlock)
      actions.push({
        kind: 'umask-block',
        code: 'umask-missing',
        target: rc.path,
        user: u.name,
        before: rc.stat ? 'no umask block' : 'absent',
        after: 'umask 002 block',
        reason: 'files members create stay group-writable',
      });
  }
  if (u.corrupted.count) {
    p({
      code: 'claude-json-corrupted',
      user: u.name,
      path: home,
      message: `${u.corrupted.count} ${home}/.claude.json.corrupted.* file${u.corrupted.count > 1 ? 's' : ''}: Claude found .claude.json corrupted by a concurrent write (${sampleText(u.corrupted)})`,
      fix: `check the shared .claude.json, then as ${u.name}: rm -- ~/.claude.json.corrupted.*`,
    });
  }
}

/** What a rebuilt shared copy holds when no good copy is left: members skip onboarding, nothing else is shared. */
export const SAFE_MINIMAL: Partial<Record<string, string>> = { 'claude-json': '{"hasCompletedOnboarding":true}' };

/** Shared settings that run commands run them as every member: a warning, by design. */
function warnCommands(item: SharedItem, bytes: Buffer | null, path: string, p: (x: ProblemInput) => void) {
  const keys = item.commandKeys;
  if (!keys.length || !bytes) return;
  const doc = parseJsonBounded(bytes) as Record<string, unknown> | undefined;
  if (!doc || typeof doc !== 'object') return;
  const found = keys.filter((k) => doc[k] !== undefined && JSON.stringify(doc[k]) !== '{}');
  const projects = doc.projects;
  if (item.id === 'claude-json' && projects && typeof projects === 'object') {
    const withServers = Object.values(projects as Record<string, { mcpServers?: unknown }>).some((p) => p && typeof p === 'object' && p.mcpServers && JSON.stringify(p.mcpServers) !== '{}');
    if (withServers) found.push('per-project mcpServers');
  }
  if (found.length) p({ code: 'shared-runs-commands', path, message: `${path} has ${found.join(' and ')}: these run commands as every member`, fix: 'review them; remove what you do not trust' });
}

function claudeJsonAccountOf(u: ObservedUser): string | undefined {
  const cj = u.items.find((i) => i.item.id === 'claude-json');
  return cj?.state === 'severed' ? accountOfClaudeJson(readOf(cj.read)) : undefined;
}

const sampleText = (s: Sample) => s.names.join(', ') + (s.count > s.names.length ? `, … (${s.count - s.names.length} more)` : '');
const readOf = (r: SafeRead | undefined) => (r?.ok ? r.bytes : null);
const expectOf = (st: FileStat): Expect => ({ ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
export const oct = (m: number) => '0' + (m & 0o7777).toString(8);
const iso = (ms?: number) => (ms ? isoOf(ms) : 'never');
const describeStat = (st: FileStat) => `uid ${st.uid} gid ${st.gid} ${oct(st.mode)}`;

const isJson = (b: Buffer) => parseJsonBounded(b) !== undefined;
