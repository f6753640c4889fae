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
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: { cert: { type: 'string' }, key: { type: 'string' }, port: { type: 'string', default: '0' } },
});

const MINT_GRANT = 'urn:pam-oauth2:test:mint';
const RESOURCES = {
  postgres: { audience: 'postgres', scope: 'openid profile groups db' },
  'other-api': { audience: 'other-api', scope: 'openid profile groups db' },
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
    {
      client_id: 'pg-introspect',
      client_secret: 'pg-introspect-secret',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: signingKeys() },
  scopes: ['openid', 'profile', 'email', 'groups', 'db'],
  claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email', 'email_verified'], groups: ['groups'] },
  async findAccount(_ctx, sub) {
    const username = sub.replace(/^id-/, '');
    if (!ACCOUNTS[username]) return undefined;
    return { accountId: sub, claims: async () => accountClaims(username) };
  },
  features: {
    devInteractions: { enabled: false },
    introspection: {
      enabled: true,
      // Only our introspection client may ask, and it may ask about every client's tokens.
      allowedPolicy: async (_ctx, client) => client.clientId === 'pg-introspect',
    },
    revocation: { enabled: true },
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
  ttl: { AccessToken: 600, Grant: 3600 },
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

const callback = provider.callback();
server.on('request', callback);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`ready ${issuer}`);
