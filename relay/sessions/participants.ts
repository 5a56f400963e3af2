import { encodeServerFrame, type GuestRole, ProtocolError, type RoleChangedPayload, SYSTEM_USER_ID } from '../../protocol';
import type { PresenceStore } from '../broker/presence';
import { type Hub, PARTICIPANT_REMOVED_CONTROL, PARTICIPANT_ROLE_CONTROL } from '../routing/hub';
import type { ParticipantStanding, SessionStore } from './session-store';

/**
 * The host's say over its guests, on every relay: removing one (their connections closed, their
 * tokens refused from then on) and changing one's role (enforced on their live connections and on
 * every later one, whatever their token says). What the session says of a user is kept with its
 * record (`SessionStore.setStanding`), so every relay reads the same.
 */
export class Participants {
  constructor(
    private readonly store: SessionStore,
    private readonly hub: Hub,
    private readonly presence: PresenceStore,
  ) {}

  /** What the session says of `userId`: removed, a role that overrides the token's, or nothing. */
  standing(sessionId: string, userId: string): Promise<ParticipantStanding> {
    return this.store.standing(sessionId, userId);
  }

  /**
   * Removes a guest: recorded first (a connection admitted meanwhile reads it), then every relay
   * closes the guest's connections with `disconnect` (`removed`, no reconnect). Removing a
   * removed guest again does the same again: nothing new, and no error.
   */
  async remove(sessionId: string, userId: string): Promise<void> {
    await this.assertGuest(sessionId, userId);
    if (!(await this.store.setStanding(sessionId, userId, 'removed')) && (await this.store.standing(sessionId, userId)) !== 'removed')
      throw new ProtocolError('SESSION_NOT_FOUND');
    await this.hub.toSession(sessionId, { eventType: PARTICIPANT_REMOVED_CONTROL, data: '' }, { users: [userId] });
  }

  /**
   * Makes a guest an editor or a viewer: recorded, enforced by every relay on the guest's
   * connections, then told to everyone (in the session log, after the enforcement on each relay:
   * both go on the session's channel, in this order).
   */
  async setRole(sessionId: string, userId: string, role: GuestRole): Promise<RoleChangedPayload> {
    await this.assertGuest(sessionId, userId);
    if (!(await this.store.setStanding(sessionId, userId, role))) await this.refuseRole(sessionId);
    await this.hub.toSession(sessionId, { eventType: PARTICIPANT_ROLE_CONTROL, data: role }, { users: [userId] });
    const known = (await this.presence.list(sessionId)).find((participant) => participant.user_id === userId);
    const payload: RoleChangedPayload = { user_id: userId, role, ...(known && { display_name: known.display_name }) };
    const data = encodeServerFrame('session.role_changed', payload, { userId: SYSTEM_USER_ID, sessionId });
    await this.hub.toSession(sessionId, { eventType: 'session.role_changed', data }, {}, { history: true });
    return payload;
  }

  /** The session's owner is its host: nobody removes them or changes their role. */
  private async assertGuest(sessionId: string, userId: string): Promise<void> {
    const record = await this.store.get(sessionId);
    if (!record) throw new ProtocolError('SESSION_NOT_FOUND');
    if (record.endedAt !== undefined) throw new ProtocolError('SESSION_ENDED');
    if (record.ownerId === userId)
      throw new ProtocolError('FORBIDDEN_ROLE', 'the session’s host cannot be removed, nor their role changed');
  }

  /** Why a role was not recorded: the session went, or the guest was removed before. */
  private async refuseRole(sessionId: string): Promise<never> {
    if (!(await this.store.get(sessionId))) throw new ProtocolError('SESSION_NOT_FOUND');
    throw new ProtocolError('PARTICIPANT_REMOVED', 'this participant was removed from the session; a removal is final');
  }
}
