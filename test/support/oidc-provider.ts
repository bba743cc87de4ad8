/**
 * A real OpenID provider (oidc-provider) on 127.0.0.1 for the single sign-on tests: one client
 * `pulp` with PKCE required, the scopes and claims Pulp asks for, and its built-in login and
 * consent pages (any password is accepted; the login name is the account id).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const OIDC_CLIENT_ID = 'pulp';
export const OIDC_CLIENT_SECRET = 'pulp-client-secret';

export interface OidcAccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestOidcProvider {
  issuer: string;
  close(): Promise<void>;
}

export async function startOidcProvider(options: {
  redirectUri: string;
  /** The claims of account `id`, or undefined when there is no such account. */
  account: (id: string) => OidcAccountClaims | undefined;
}): Promise<TestOidcProvider> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    findAccount: (_ctx, id) => {
      const claims = options.account(id);
      return claims ? { accountId: id, claims: () => ({ sub: id, ...claims }) } : undefined;
    },
    cookies: { keys: ['oidc-test-cookie-key'] },
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    void handle(req, res);
  });
  return { issuer, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
