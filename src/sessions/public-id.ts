/** Public session ids: `chat_` + 12 lowercase hex characters. */
import { randomBytes } from 'node:crypto';

export const PUBLIC_ID_PATTERN = /^chat_[0-9a-f]{12}$/;

export function newPublicId(random: (n: number) => Buffer = randomBytes): string {
  return `chat_${random(6).toString('hex')}`;
}
