import type { Participant } from '../../protocol';

export type InputVerdict = 'allowed' | 'not-shared' | 'not-granted' | 'unknown-sender' | 'not-an-editor';

/**
 * Whether a guest's keys may reach the host's shell, decided on the host from the host's own
 * state only: the terminal is shared and the host let guests type in it, and the sending
 * connection is one the host knows, of the user the relay says typed, who is an editor now (a
 * viewer, or an editor the host made a viewer, never types). Nothing in the guest's frame is
 * trusted beyond what the relay proved (its connection and user id).
 */
export function mayType(
  terminal: { shared: boolean; guestsCanType: boolean } | undefined,
  participants: readonly Participant[],
  sender: { connectionId: string; userId: string },
): InputVerdict {
  if (!terminal?.shared) return 'not-shared';
  if (!terminal.guestsCanType) return 'not-granted';
  const participant = participants.find((p) => p.connection_id === sender.connectionId);
  if (!participant || participant.user_id !== sender.userId) return 'unknown-sender';
  return participant.role === 'editor' ? 'allowed' : 'not-an-editor';
}
