// A loopback OpenID provider for pam_oauth2's end-to-end tests and demo, built on oidc-provider.
//
//   node idp.js --cert server.pem --key server.key [--port N]
//
// Prints "ready <issuer>" on stdout once it listens. Users: alice, bob, carol (group dba), dave (400
// groups: a JWT over 8 KiB) and erin (60 groups: a JWT of 2-4 KiB). Tokens are real tokens of this
// provider, minted without a browser through a test-only grant type registered below:
//
//   POST /token  grant_type=urn:pam-oauth2:test:mint  username=alice  [scope=...] [ttl=seconds]
//                [resource=postgres]   (client psql / psql-secret, HTTP Basic)
//
// Without `resource` the access token is opaque (accepted by userinfo and introspection); with
// `resource` it is an RS256 JWT access token (RFC 9068) for that audience, meant for local checks.
//
// The device authorization grant (RFC 8628) is enabled for the public clients pg-cli, pg-cli-slow
// (its first poll is answered slow_down) and pg-cli-short (its device codes expire after 3 s). Polls are paced at --interval
// seconds (default 1). With no browser in a test, a sign-in is approved or denied through test-only
// routes, and every poll is recorded:
//
//   POST /test/device/approve  user_code=...  username=alice     (or deny=1)
//   GET  /test/device/polls    -> [{client, at_ms, error}]
//   GET  /test/device/requests -> [{client, login_hint}]
//
// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): with PAM_OAUTH2_TEST_LOGOUT_URI set,
// the client pg-logout has that backchannel_logout_uri, and the provider itself posts a logout token
// for an account there on
//
//   POST /test/logout  username=alice                -> 200, or 502 with why the post failed
//   POST /test/logout-token  claims=JSON [header=JSON] -> a JWS of those claims by the provider's RSA key
//
// The authorization code flow of a native app (RFC 8252) is enabled for the public client pg-desktop:
// PKCE required (oidc-provider requires it of every client without authentication), loopback
// redirect URIs http://127.0.0.1/callback and http://localhost/callback on any port (oidc-provider
// ignores the port of a loopback redirect URI of a native client), the iss response parameter of
// RFC 9207 (always on in oidc-provider 9), and oidc-provider's own login and consent pages
// (devInteractions): log in as one of the users above with any password; "[ Cancel ]" denies.
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEVICE_CLIENTS = ['pg-cli', 'pg-cli-slow', 'pg-cli-short'];

const { values: args } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    port: { type: 'string', default: '0' },
    interval: { type: 'string', default: '1' },
  },
});

const MINT_GRANT = 'urn:pam-oauth2:test:mint';
const RESOURCES = {
  postgres: { audience: 'postgres', scope: 'openid profile groups db' },
  'other-api': { audience: 'other-api', scope: 'openid profile groups db' },
  // The same audience, named as RFC 8707 requires at the device authorization endpoint.
  'urn:pam-oauth2:postgres': { audience: 'postgres', scope: 'openid profile groups db' },
};

const teams = (count) => Array.from({ length: count }, (_, i) => `analytics-team-${String(i).padStart(3, '0')}`);
const ACCOUNTS = {
  alice: { groups: ['dev'] },
  bob: { groups: ['dev'] },
  carol: { groups: ['dba'] },
  dave: { groups: ['dba', ...teams(400)] }, // JWT access token > 8 KiB
  erin: { groups: ['dev', ...teams(60)] }, // JWT access token between 2048 and 4090 bytes
};

function accountClaims(username) {
  return {
    sub: `id-${username}`,
    preferred_username: username,
    email: `${username}@example.test`,
    email_verified: true,
    groups: ACCOUNTS[username].groups,
  };
}

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [{ ...rsa, kid: 'rsa-1', alg: 'RS256', use: 'sig' }, { ...ec, kid: 'ec-1', alg: 'ES256', use: 'sig' }];
}

// Back-channel logout: the relying party pam_oauth2d stands for, and the test-only route that makes
// the provider send its logout token (Client#backchannelLogout, as ending a sign-in would).
const LOGOUT_URI = process.env.PAM_OAUTH2_TEST_LOGOUT_URI;
const SIGNING_KEYS = signingKeys();
const LOGOUT_CLIENTS = LOGOUT_URI
  ? [{
    client_id: 'pg-logout',
    client_secret: 'pg-logout-secret',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_logout_uri: LOGOUT_URI,
    backchannel_logout_session_required: false,
  }]
  : [];
// oidc-provider refuses to post to special-use addresses (SSRF protection); the test endpoint is on
// loopback, so only that one URL goes out without the check.
const logoutFetch = (url, options) => {
  if (LOGOUT_URI && String(url) === new URL(LOGOUT_URI).href) {
    const { dispatcher: _unused, ...unchecked } = options;
    return globalThis.fetch(url, unchecked);
  }
  return globalThis.fetch(url, options);
};
async function sendLogout(req, res, provider) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const username = new URLSearchParams(Buffer.concat(chunks).toString()).get('username');
  const client = LOGOUT_URI && ACCOUNTS[username] ? await provider.Client.find('pg-logout') : undefined;
  if (!client) {
    res.writeHead(404);
    res.end();
    return;
  }
  try {
    await client.backchannelLogout(`id-${username}`, undefined);
    res.writeHead(200);
    res.end();
  } catch (error) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(error.message));
  }
}

// Logout tokens the provider would never send (wrong aud, a nonce...), signed by its real key, so a
// test can show each rule refuses them on its own.
async function signLogoutToken(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const params = new URLSearchParams(Buffer.concat(chunks).toString());
  const rsa = SIGNING_KEYS[0];
  const header = { alg: 'RS256', kid: rsa.kid, typ: 'logout+jwt', ...JSON.parse(params.get('header') || '{}') };
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(JSON.parse(params.get('claims')))}`;
  const signature = sign('sha256', Buffer.from(input), createPrivateKey({ key: rsa, format: 'jwk' }));
  const token = `${input}.${signature.toString('base64url')}`;
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(token);
}

const server = https.createServer({ cert: readFileSync(args.cert), key: readFileSync(args.key) });
await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'psql',
      client_secret: 'psql-secret',
      grant_types: [MINT_GRANT],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    ...DEVICE_CLIENTS.map((clientId) => ({
      client_id: clientId,
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'none',
    })),
    {
      client_id: 'pg-desktop',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
      token_endpoint_auth_method: 'none',
    },
    {
      client_id: 'pg-introspect',
      client_secret: 'pg-introspect-secret',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    ...LOGOUT_CLIENTS,
  ],
  fetch: logoutFetch,
  jwks: { keys: SIGNING_KEYS },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'db'],
  claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email', 'email_verified'], groups: ['groups'] },
  async findAccount(_ctx, sub) {
    const username = sub.replace(/^id-/, '');
    if (!ACCOUNTS[username]) return undefined;
    return { accountId: sub, claims: async () => accountClaims(username) };
  },
  features: {
    // oidc-provider's own login and consent pages, for the browser sign-in of pg-desktop.
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: {
      enabled: true,
      // Only our introspection client may ask, and it may ask about every client's tokens.
      allowedPolicy: async (_ctx, client) => client.clientId === 'pg-introspect',
    },
    revocation: { enabled: true },
    backchannelLogout: { enabled: Boolean(LOGOUT_URI) },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (_ctx, resource) => {
        const info = RESOURCES[resource];
        if (!info) throw new errors.InvalidTarget();
        return { ...info, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  // Identity claims in JWT access tokens and introspection answers, as Keycloak and Entra put them.
  extraTokenClaims: async (_ctx, token) => {
    const username = token.accountId?.replace(/^id-/, '');
    if (!ACCOUNTS[username]) return undefined;
    const { preferred_username: preferredUsername, groups } = accountClaims(username);
    return { preferred_username: preferredUsername, groups };
  },
  ttl: {
    AccessToken: 600,
    Grant: 3600,
    DeviceCode: (_ctx, _token, client) => (client.clientId === 'pg-cli-short' ? 3 : 600),
  },
  // Expired test tokens must be refused at once, not 15 s later (the default tolerance).
  clockTolerance: 0,
});
provider.proxy = false;

provider.registerGrantType(
  MINT_GRANT,
  async (ctx) => {
    const { client } = ctx.oidc;
    const { username, scope = 'openid profile', ttl, resource } = ctx.oidc.params;
    if (!ACCOUNTS[username]) throw new errors.InvalidGrant('unknown test user');
    const accountId = `id-${username}`;

    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope(scope);
    if (resource) grant.addResourceScope(resource, scope);
    const grantId = await grant.save();

    const token = new provider.AccessToken({ accountId, client, grantId, scope, gty: MINT_GRANT });
    if (resource) {
      if (!RESOURCES[resource]) throw new errors.InvalidTarget();
      token.resourceServer = new provider.ResourceServer(resource, {
        ...RESOURCES[resource], accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
      });
    }
    if (ttl) token.expiresIn = Number(ttl);
    const value = await token.save();
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  },
  ['username', 'scope', 'ttl', 'resource'],
);

// RFC 8628 section 3.2: the provider says how often to poll (oidc-provider leaves it to the client's
// default of 5 s). Section 3.5: slow_down for pg-cli-slow's first poll; every poll is recorded.
const INTERVAL = Number(args.interval);
const polls = [];
const slowedDown = new Set();
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body?.device_code) {
    ctx.body = { ...ctx.body, interval: INTERVAL };
  }
  if (ctx.path !== '/token' || ctx.oidc?.params?.grant_type !== DEVICE_GRANT) return;
  const clientId = ctx.oidc.client?.clientId;
  const deviceCode = ctx.oidc.params.device_code;
  // Only a poll that changed nothing (still pending) is turned into slow_down.
  if (clientId === 'pg-cli-slow' && ctx.body?.error === 'authorization_pending' && !slowedDown.has(deviceCode)) {
    slowedDown.add(deviceCode);
    ctx.body = { error: 'slow_down', error_description: 'polling too fast' };
  }
  polls.push({ client: clientId, at_ms: Date.now(), error: ctx.body?.error ?? null });
});

// Test-only: what a person does at the verification page, without a browser.
async function approveDevice(params) {
  const code = await provider.DeviceCode.findByUserCode(params.get('user_code').toUpperCase().replace(/\W/g, ''));
  if (!code || code.isExpired || code.accountId || code.error) return 404;
  if (params.get('deny')) {
    Object.assign(code, { error: 'access_denied', errorDescription: 'End-User denied the sign-in' });
    await code.save();
    return 200;
  }
  const username = params.get('username');
  if (!ACCOUNTS[username]) return 400;
  const accountId = `id-${username}`;
  const scope = code.params.scope || 'openid';
  const grant = new provider.Grant({ accountId, clientId: code.clientId });
  grant.addOIDCScope(scope);
  if (code.params.resource) grant.addResourceScope(code.params.resource, scope);
  Object.assign(code, {
    accountId,
    authTime: Math.floor(Date.now() / 1000),
    grantId: await grant.save(),
    scope,
    ...(code.params.resource ? { resource: code.params.resource } : {}),
  });
  await code.save();
  return 200;
}

async function testRoute(req, res) {
  if (req.method === 'POST' && req.url === '/test/logout') return sendLogout(req, res, provider);
  if (req.method === 'POST' && req.url === '/test/logout-token' && LOGOUT_URI) return signLogoutToken(req, res);
  if (req.method === 'GET' && req.url === '/test/device/polls') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(polls));
    return;
  }
  if (req.method === 'POST' && req.url === '/test/device/approve') {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    res.writeHead(await approveDevice(new URLSearchParams(Buffer.concat(chunks).toString())));
    res.end();
    return;
  }
  if (req.method === 'GET' && req.url === '/test/device/requests') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(deviceRequests));
    return;
  }
  res.writeHead(404);
  res.end();
}

// Test-only: every device authorization request and the login_hint it carried (GET
// /test/device/requests -> [{client, login_hint}]), for pam_oauth2_token --account.
const deviceRequests = [];
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/device/auth' && ctx.method === 'POST') {
    deviceRequests.push({ client: ctx.oidc?.client?.clientId ?? null, login_hint: ctx.oidc?.params?.login_hint ?? null });
  }
});

const callback = provider.callback();
server.on('request', (req, res) => (req.url.startsWith('/test/') ? testRoute(req, res) : callback(req, res)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`ready ${issuer}`);
