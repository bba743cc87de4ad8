/** HS256 access tokens via jose: claims sub, email, ver (the user's token version), type "access", iat, exp, jti. */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../errors/app-error.js';

export const ACCESS_TOKEN_TTL_S = 15 * 60;

export interface AccessClaims {
  sub: string;
  email: string;
  /** The user's `token_version` when the token was signed. */
  ver: number;
}

export class AccessTokens {
  private readonly key: Uint8Array;
  constructor(
    secret: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(claims: AccessClaims): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({ email: claims.email, ver: claims.ver, type: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ACCESS_TOKEN_TTL_S)
      .setJti(randomUUID())
      .sign(this.key);
  }

  /** Verifies signature, algorithm, expiry and type; throws AUTH_1003 when expired, AUTH_1002 otherwise. */
  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        currentDate: new Date(this.now()),
      });
      if (payload.type !== 'access' || typeof payload.sub !== 'string' || typeof payload.email !== 'string') {
        throw new AppError('AUTH_1002');
      }
      // A token without `ver` was signed before versions existed: version 0, the column's default.
      const ver = payload.ver ?? 0;
      if (typeof ver !== 'number' || !Number.isInteger(ver)) throw new AppError('AUTH_1002');
      return { sub: payload.sub, email: payload.email, ver };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new AppError('AUTH_1003', 'The access token has expired.');
      throw new AppError('AUTH_1002', 'The access token is not valid.');
    }
  }
}
