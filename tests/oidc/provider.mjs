// A real OpenID Connect provider for the tests and the demo: the certified `oidc-provider` package
// (npm, a devDependency in package.json) with test clients and people. NEVER a production
// identity provider: anyone who knows an account's password below signs in.
//
//   node tests/oidc/provider.mjs [port]     (ISSUER defaults to http://127.0.0.1:<port>)
//
// It prints one line, `listening <issuer>`, once it accepts requests. Its sign-in page is a plain
// form (username and password); consent is given at once. What the people assert (email,
// email_verified, amr, acr) is in ACCOUNTS; `expired-token` gets ID tokens that expire after one
// second (the expired-token test). Clients: `dsr` (the service) and `other-service` (another
// service of the same organisation: its tokens carry the wrong audience for us).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.OIDC_PORT || 9400);
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const CALLBACK_PATH = '/accounts/organisation-sign-in/callback/';
const SIGNED_OUT_PATH = '/accounts/login/';
// The service's callback on any local address (the test server, the live server's port, make run).
const LOCAL = /^http:\/\/(testserver|127\.0\.0\.1|localhost)(:\d+)?$/;

const CLIENTS = [
  { client_id: 'dsr', client_secret: process.env.DSR_CLIENT_SECRET || 'dsr-test-secret' },
  { client_id: 'other-service', client_secret: 'other-service-secret' },
].map((client) => ({
  ...client,
  redirect_uris: [`http://127.0.0.1:8000${CALLBACK_PATH}`],
  post_logout_redirect_uris: [`http://127.0.0.1:8000${SIGNED_OUT_PATH}`],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
}));

const PASSWORD = process.env.OIDC_DEMO_PASSWORD || 'organisation-password';
// username -> what the provider asserts about them.
const ACCOUNTS = {
  // Demo: the demo lead of Dumfries and Galloway and a demo practitioner (registers/demo.py).
  'lead.dumfries-and-galloway': { email: 'lead.dumfries-and-galloway@demo.dsr.scot', amr: ['pwd', 'mfa'] },
  'practitioner.dumfries-and-galloway': { email: 'practitioner.dumfries-and-galloway@demo.dsr.scot', amr: ['pwd'] },
  // Tests (tests/accounts/test_organisation_sign_in.py, tests/browser/).
  'ola.lead': { email: 'ola.lead@health.example.scot', amr: ['pwd', 'mfa'] },
  'ola.practitioner': { email: 'ola.practitioner@health.example.scot', amr: ['pwd'] },
  'pat.password-only': { email: 'pat@health.example.scot', amr: ['pwd'] },
  'mo.mfa': { email: 'mo@health.example.scot', amr: ['pwd', 'mfa'] },
  'acr.person': { email: 'acr@health.example.scot', amr: ['pwd'], acr: 'urn:example:mfa' },
  'una.unverified': { email: 'una@health.example.scot', email_verified: false, amr: ['pwd'] },
  'nina.never-invited': { email: 'nina@health.example.scot', amr: ['pwd'] },
  'dee.deactivated': { email: 'dee@health.example.scot', amr: ['pwd'] },
  'expired-token': { email: 'exp@health.example.scot', amr: ['pwd'] },
};

const configuration = {
  clients: CLIENTS,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  // Claims asked for by scope go into the ID token too (as Entra ID's do), not only /userinfo;
  // every ID token says how the person signed in (amr, acr), as Entra ID's do.
  conformIdTokenClaims: false,
  claims: {
    iss: null,
    sid: null,
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    IdToken: (ctx, token) => (token.available?.sub === 'expired-token' ? 1 : 3600),
  },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email,
          email_verified: account.email_verified ?? true,
          name: id,
        };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
// Test provider only: the service may run on any local port.
const allowed = (value, path, listed) => {
  if (listed.includes(value)) return true;
  try {
    const url = new URL(value);
    return LOCAL.test(url.origin) && url.pathname === path && !url.search && !url.hash;
  } catch {
    return false;
  }
};
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return allowed(value, CALLBACK_PATH, this.redirectUris);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutAllowed(value) {
  return allowed(value, SIGNED_OUT_PATH, this.postLogoutRedirectUris || []);
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="en"><head><title>Test organisation: sign in</title></head>
<body><main><h1>Test organisation</h1>${body}</main></body></html>`);
}

async function readForm(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return Object.fromEntries(new URLSearchParams(data));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const hint = details.params.login_hint || '';
  if (req.method === 'GET') {
    const username = Object.keys(ACCOUNTS).find((k) => ACCOUNTS[k].email === hint) || '';
    page(res, 200, `<form method="post" action="/interaction/${details.uid}">
<p><label for="username">Username</label> <input id="username" name="username" value="${escape(username)}"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password"></p>
<button type="submit">Sign in to the test organisation</button></form>`);
    return;
  }
  const form = await readForm(req);
  const account = ACCOUNTS[form.username];
  if (!account || form.password !== PASSWORD) {
    page(res, 200, '<p role="alert">Wrong username or password.</p>');
    return;
  }
  const grant = new provider.Grant({ accountId: form.username, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    {
      login: { accountId: form.username, amr: account.amr, ...(account.acr ? { acr: account.acr } : {}) },
      consent: { grantId },
    },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => page(res, 400, `<p>${escape(error.message)}</p>`));
    return;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
