// A real OpenID Connect provider (oidc-provider) for Fathom's OIDC tests.
//
//   node provider.mjs serve KEYS.json [PORT] [REDIRECT_URI]
//                                       listens on 127.0.0.1 (PORT or a free one), prints `issuer URL`, and
//                                       issues JWT access tokens (RS256, audience urn:fathom:api) to
//                                       the clients below by the client-credentials grant. KEYS.json
//                                       holds its private signing key; it is made when missing. With
//                                       REDIRECT_URI, people sign in too: the client `fathom-web`
//                                       (secret `fathom-web-secret`) uses the authorization code flow
//                                       with PKCE, returning there; the provider's own login page
//                                       takes any name (the users below carry Fathom's claims).
//   node provider.mjs mint KEYS.json CLAIMS [ALG]
//                                       prints a token signed with that key (or, for ALG `none` or
//                                       `HS256-public`, the forgeries an attacker would try).
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, importJWK } from 'jose';

export const AUDIENCE = 'urn:fathom:api';

// The users, as clients of the client-credentials grant and as people signing in, and the claims
// their tokens carry.
const USERS = {
  analyst: { fathom_role: 'viewer', fathom_clearance: 'NATO SECRET', fathom_nationality: 'NOR',
             fathom_communities: ['NATO'], fathom_memberships: [{ organisation: 'cmre', role: 'steward' }] },
  visitor: {},
};

async function keys(file) {
  if (!existsSync(file)) {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
    writeFileSync(file, JSON.stringify(jwk));
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function mint(file, claims, alg = 'RS256') {
  const jwk = await keys(file);
  const payload = JSON.parse(claims);
  if (alg === 'none') {
    return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
  }
  if (alg === 'HS256-public') {
    // HMAC keyed with the public key's PEM: the confusion attack on verifiers that trust `alg`.
    const { d, p, q, dp, dq, qi, ...publicJwk } = jwk;
    const pem = await exportSPKI(await importJWK(publicJwk, 'RS256'));
    return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
      .sign(new TextEncoder().encode(pem));
  }
  return new SignJWT(payload).setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
    .sign(await importJWK(jwk, alg));
}

const FATHOM_CLAIMS = ['fathom_role', 'fathom_clearance', 'fathom_nationality', 'fathom_communities',
  'fathom_memberships'];

async function serve(file, port = '0', redirectUri = undefined) {
  const jwk = await keys(file);
  const server = createServer();
  await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    clients: [
      ...Object.keys(USERS).map((id) => ({
        client_id: id, client_secret: `${id}-secret`, grant_types: ['client_credentials'],
        redirect_uris: [], response_types: [], scope: 'api',
      })),
      ...(redirectUri ? [{
        client_id: 'fathom-web', client_secret: 'fathom-web-secret', grant_types: ['authorization_code'],
        redirect_uris: [redirectUri], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
      }] : []),
    ],
    scopes: ['openid', 'api', 'fathom'],
    claims: { openid: ['sub'], fathom: FATHOM_CLAIMS },
    // Fathom reads its claims from the ID token.
    conformIdTokenClaims: false,
    findAccount: (ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, ...(USERS[id] ?? {}) }),
    }),
    pkce: { required: () => true },
    features: {
      // The provider's own login and consent pages (any name signs in).
      devInteractions: { enabled: Boolean(redirectUri) },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api', audience: AUDIENCE, accessTokenTTL: 300, accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (ctx, token) => USERS[token.clientId] ?? {},
  });
  server.on('request', provider.callback());
  console.log(`issuer ${issuer}`);
}

const [command, file, ...rest] = process.argv.slice(2);
if (command === 'serve') await serve(file, ...rest);
else if (command === 'mint') console.log(await mint(file, ...rest));
else { console.error('usage: provider.mjs serve KEYS.json | mint KEYS.json CLAIMS [ALG]'); process.exit(2); }
