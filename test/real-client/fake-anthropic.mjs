// A stand-in for Anthropic's token endpoint and API, for the real-client suite (never the real service).
//
//   node fake-anthropic.mjs STATE_DIR
//
// Serves HTTPS on 127.0.0.1:443 with STATE_DIR/server.{key,crt} (signed by the suite's throw-away CA); the sandbox's
// own /etc/hosts sends platform.claude.com and api.anthropic.com here. State, in STATE_DIR:
//   tokens.json  {"account": ACCOUNT, "valid": {REFRESH: ACCOUNT}, "used": [REFRESH...], "access": {ACCESS: REFRESH},
//                "n": N} -- what is live; the suite seeds it with the login it gives the shared copy.
//   log.jsonl    one line per request: {t, method, path, grant, refresh, code, result, issued, bearer}
//   settings.json  {"expiresIn": SECONDS} -- lifetime of the access tokens it issues (default 28800).
// Refresh tokens rotate: each is good once; a used one gets 400 invalid_grant, as the real endpoint answers. A sign-in
// (grant authorization_code) with a code starting fake-code gets a new login of the account.
import { appendFileSync, readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { createServer } from 'node:https';

const dir = process.argv[2];
const load = () => JSON.parse(readFileSync(`${dir}/tokens.json`, 'utf8'));
const save = (s) => {
  writeFileSync(`${dir}/tokens.json.tmp`, JSON.stringify(s));
  renameSync(`${dir}/tokens.json.tmp`, `${dir}/tokens.json`);
};
const settings = () => (existsSync(`${dir}/settings.json`) ? JSON.parse(readFileSync(`${dir}/settings.json`, 'utf8')) : {});
const log = (entry) => appendFileSync(`${dir}/log.jsonl`, JSON.stringify({ t: Date.now(), ...entry }) + '\n');

const json = (res, code, body) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A request body as the client sends it: JSON or form-encoded; anything else is an empty form. */
function parseForm(body) {
  try {
    return body.trim().startsWith('{') ? JSON.parse(body) : Object.fromEntries(new URLSearchParams(body));
  } catch {
    return {};
  }
}

function token(req, res, body) {
  const form = parseForm(body);
  const s = load();
  const rt = form.refresh_token;
  // A sign-in (claude auth login): the code the suite pastes is fake-code, the login a new one of the account.
  if (form.grant_type === 'authorization_code' && typeof form.code === 'string' && form.code.startsWith('fake-code'))
    return issue(req, res, s, s.account, { grant: 'authorization_code', code: form.code });
  if (form.grant_type !== 'refresh_token' || !rt) {
    log({ method: req.method, path: req.url, grant: form.grant_type ?? null, result: 'unsupported' });
    return json(res, 400, { error: 'unsupported_grant_type' });
  }
  const account = s.valid[rt];
  if (!account) {
    log({ method: req.method, path: req.url, grant: 'refresh_token', refresh: rt, result: s.used.includes(rt) ? 'reused' : 'unknown' });
    return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh token' });
  }
  delete s.valid[rt];
  s.used.push(rt);
  return issue(req, res, s, account, { grant: 'refresh_token', refresh: rt });
}

/** A new access token and a new single-use refresh token of ACCOUNT. */
function issue(req, res, s, account, how) {
  s.n += 1;
  const refresh = `sk-ant-ort01-fake${s.n}`;
  const access = `sk-ant-oat01-fake${s.n}`;
  s.valid[refresh] = account;
  s.access[access] = refresh;
  save(s);
  log({ method: req.method, path: req.url, ...how, result: 'ok', issued: refresh });
  json(res, 200, {
    token_type: 'Bearer',
    access_token: access,
    refresh_token: refresh,
    expires_in: settings().expiresIn ?? 28800,
    scope: 'user:inference user:profile',
    account: { uuid: account, email_address: 'shared@example.com' },
    organization: { uuid: 'org-1', name: 'Shared' },
  });
}

/** Revocation (what /logout does): the refresh token, and the login it belongs to, stop working for everyone. */
function revoke(req, res, body) {
  const form = parseForm(body);
  const s = load();
  const t = form.token ?? form.refresh_token ?? '';
  const refresh = t in s.valid ? t : s.access[t];
  const account = refresh ? s.valid[refresh] : undefined;
  if (account)
    for (const [r, a] of Object.entries(s.valid))
      if (a === account) {
        delete s.valid[r];
        for (const [acc, rr] of Object.entries(s.access)) if (rr === r) delete s.access[acc];
      }
  save(s);
  log({ method: req.method, path: req.url, token: t, result: account ? 'revoked' : 'unknown' });
  json(res, 200, {});
}

/** A complete streamed answer, the shape the Messages API sends. */
function messages(res) {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_fake' });
  res.end(
    ev('message_start', {
      message: { id: 'msg_fake', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } },
    }) +
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'pong' } }) +
      ev('content_block_stop', { index: 0 }) +
      ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } }) +
      ev('message_stop', {}),
  );
}

createServer({ key: readFileSync(`${dir}/server.key`), cert: readFileSync(`${dir}/server.crt`) }, (req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const path = (req.url ?? '').split('?')[0];
    if (path.endsWith('/oauth/token')) return token(req, res, body);
    if (path.endsWith('/oauth/token/revoke')) return revoke(req, res, body);
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '') || null;
    const s = load();
    // The API: a known, unexpired-by-us access token works; anything else is a 401 (the client then re-reads its file).
    const known = bearer !== null && bearer in s.access;
    log({ method: req.method, path, bearer, result: known ? 'ok' : 'unauthorized' });
    if (!known && (path.startsWith('/v1/messages') || path.startsWith('/api/oauth'))) return json(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid token' } });
    if (path.startsWith('/v1/messages/count_tokens')) return json(res, 200, { input_tokens: 1 });
    if (path.startsWith('/v1/messages')) return messages(res);
    // The account an access token belongs to outlives the rotation of its refresh token (the client asks after it).
    if (path === '/api/oauth/profile')
      return json(res, 200, {
        account: { uuid: s.account, email: 'shared@example.com', display_name: 'Shared' },
        organization: { uuid: 'org-1', name: 'Shared', organization_type: 'claude_max', rate_limit_tier: 'default_claude_max_20x' },
      });
    return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'not here' } });
  });
}).listen(443, '127.0.0.1', () => writeFileSync(`${dir}/ready`, String(process.pid)));
