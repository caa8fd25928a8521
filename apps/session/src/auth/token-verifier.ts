import { JWTPayload, createRemoteJWKSet, jwtVerify } from 'jose';
import { Principal } from './principal';

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface TokenVerifierOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** URL of a JSON Web Key Set (RS256/ES256 tokens from an identity provider). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

const DISPLAY_NAME = /^[\p{L}\p{N} _.-]{1,40}$/u;

/** Checks a bearer JWT (signature, expiry, issuer, audience) and reads the person from it. */
export class TokenVerifier {
  private readonly verifyToken: (token: string) => Promise<JWTPayload>;

  constructor(private readonly options: TokenVerifierOptions) {
    const checks = {
      issuer: options.issuer || undefined,
      audience: options.audience || undefined,
    };
    if (options.jwksUrl) {
      const keys = createRemoteJWKSet(new URL(options.jwksUrl));
      this.verifyToken = async (token) => (await jwtVerify(token, keys, { ...checks, algorithms: ['RS256', 'ES256', 'EdDSA'] })).payload;
    } else if (options.secret) {
      const secret = new TextEncoder().encode(options.secret);
      this.verifyToken = async (token) => (await jwtVerify(token, secret, { ...checks, algorithms: ['HS256'] })).payload;
    } else {
      throw new Error('TokenVerifier needs a secret or a JWKS URL');
    }
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      payload = await this.verifyToken(token);
    } catch (e) {
      throw new AuthError(`invalid token: ${(e as Error).message}`);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
      throw new AuthError('invalid token: "sub" must name the user');
    }
    const name = typeof payload.name === 'string' && DISPLAY_NAME.test(payload.name) ? payload.name : payload.sub.slice(0, 40);
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    return { userId: payload.sub, name, roles, anonymous: false };
  }
}
