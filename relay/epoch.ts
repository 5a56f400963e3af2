import { randomBytes } from 'node:crypto';

/**
 * A new epoch: the name of one life of a broker channel's history or of a document, so that one
 * lost and made again (a restart, a Redis without persistence, an expired key) is told apart from
 * the one before. Random, 64 bits as 16 hex digits (the protocol's `Epoch`: 1-64 of [\w-]).
 */
export function newEpoch(): string {
  return randomBytes(8).toString('hex');
}
