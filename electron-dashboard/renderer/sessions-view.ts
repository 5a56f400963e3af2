import type { ClusterSession, ClusterSessions } from '../../protocol';
import type { DashboardApi } from './api';
import { confirmAction } from './confirm';
import { fill, h, table } from './dom';
import { count, duration } from './format';

/**
 * The sessions table (every session with a connection on a live relay) and the selected one's
 * live detail: its participants with their roles and relays, its open documents, and the operator
 * actions, each behind a confirmation: a notice to the session (or to everyone), ending it.
 */
export class SessionsView {
  private selected: string | undefined;
  private latest: ClusterSessions | undefined;
  private readonly list = h('div', { attrs: { id: 'sessions-list' } });
  private readonly detail = h('div', { class: 'panel detail', attrs: { id: 'session-detail' } });
  private readonly notices = h('section', { class: 'panel' });
  private readonly message = h('p', { class: 'status-line', attrs: { id: 'action-status', role: 'status' } });

  constructor(
    readonly root: HTMLElement,
    private readonly api: DashboardApi,
  ) {
    const everyoneText = h('input', { attrs: { id: 'notice-everyone-text', placeholder: 'A notice to every session', maxlength: '2000' } });
    this.notices.append(
      h('h2', { text: 'Notice to everyone' }),
      h(
        'div',
        { class: 'row' },
        everyoneText,
        h('button', {
          text: 'Send to every session…',
          attrs: { id: 'notice-everyone' },
          onClick: () => void this.notify(undefined, everyoneText),
        }),
      ),
    );
    fill(root, h('section', { class: 'panel' }, h('h2', { text: 'Sessions' }), this.list), this.detail, this.notices, this.message);
  }

  render(sessions: ClusterSessions): void {
    this.latest = sessions;
    const now = Date.now();
    const rows = sessions.sessions.map((session) => ({
      props: {
        class: session.session_id === this.selected ? 'selected clickable' : 'clickable',
        attrs: { 'data-session': session.session_id, tabindex: '0', role: 'button' },
        onClick: () => this.select(session.session_id),
        onKey: (event: KeyboardEvent) => {
          if (event.key === 'Enter' || event.key === ' ') this.select(session.session_id);
        },
      },
      cells: [
        h('span', {}, h('strong', { text: session.name ?? '' }), ' ', h('span', { class: 'mono', text: session.session_id })),
        session.host?.display_name ?? '(ad hoc)',
        `${session.participants.length}: ${roles(session)}`,
        session.relays.join(', '),
        count(session.documents.length),
        count(session.chat_messages),
        session.created_at ? duration((now - Date.parse(session.created_at)) / 1000) : '–',
      ],
    }));
    fill(
      this.list,
      rows.length === 0
        ? h('p', { class: 'muted', text: 'No session has a connection on a live relay.' })
        : table(['Session', 'Host', 'Participants', 'Relays', 'Documents', 'Chat messages', 'Age'], rows, {
            attrs: { id: 'sessions-table' },
          }),
    );
    this.renderDetail();
  }

  private select(sessionId: string): void {
    this.selected = sessionId;
    if (this.latest) this.render(this.latest);
  }

  private renderDetail(): void {
    const session = this.latest?.sessions.find((s) => s.session_id === this.selected);
    if (!session) {
      fill(
        this.detail,
        h('p', {
          class: 'muted',
          text: this.selected ? `Session ${this.selected} has no connection any more.` : 'Select a session to see it live.',
        }),
      );
      return;
    }
    // The notice being typed survives the redraw each second.
    const previous = this.detail.querySelector<HTMLInputElement>('#notice-session-text');
    const text = h('input', { attrs: { id: 'notice-session-text', placeholder: 'A notice to this session', maxlength: '2000' } });
    if (previous) text.value = previous.value;
    const focused = document.activeElement === previous;
    fill(
      this.detail,
      h('h2', {}, 'Session ', h('span', { class: 'mono', text: session.session_id })),
      h('p', {
        class: 'muted',
        text: [
          session.name ?? 'unnamed',
          `host ${session.host?.display_name ?? '(ad hoc session)'}`,
          `expires ${session.expires_at ?? '–'}`,
        ].join(' · '),
      }),
      h('h3', { text: 'Participants' }),
      table(
        ['Name', 'User', 'Role', 'Relay', 'Connection'],
        session.participants.map((p) => ({
          cells: [
            p.display_name,
            h('span', { class: 'mono', text: p.user_id }),
            p.role,
            p.relay_id,
            h('span', { class: 'mono', text: p.connection_id }),
          ],
        })),
        { attrs: { id: 'participants-table' } },
      ),
      h('h3', { text: 'Open documents' }),
      session.documents.length === 0
        ? h('p', { class: 'muted', text: 'None open.' })
        : table(
            ['Document', 'Revision', 'Size'],
            session.documents.map((d) => ({
              cells: [
                h('span', { class: 'mono', text: d.document_id }),
                d.rev === null ? '–' : `rev ${d.rev}`,
                d.length === null ? '–' : `${count(d.length)} chars`,
              ],
            })),
          ),
      h(
        'div',
        { class: 'row' },
        text,
        h('button', { text: 'Send notice…', attrs: { id: 'notice-session' }, onClick: () => void this.notify(session.session_id, text) }),
        h('button', { class: 'danger', text: 'End session…', attrs: { id: 'end-session' }, onClick: () => void this.end(session) }),
      ),
    );
    if (focused) text.focus();
  }

  private async notify(sessionId: string | undefined, input: HTMLInputElement): Promise<void> {
    const message = input.value.trim();
    if (!message) return this.say('Write the notice first.', true);
    const audience = sessionId ? `every participant of ${sessionId}` : 'every participant of every session';
    if (!(await confirmAction('Send this notice?', `“${message}” goes to ${audience}.`, 'Send'))) return;
    try {
      await this.api.notice({ level: 'info', message, ...(sessionId && { session_id: sessionId }) });
      input.value = '';
      this.say(`Notice sent to ${audience}.`);
    } catch (error) {
      this.say(`The notice was not sent: ${(error as Error).message}`, true);
    }
  }

  private async end(session: ClusterSession): Promise<void> {
    const who = `${session.participants.length} connection${session.participants.length === 1 ? '' : 's'}`;
    if (
      !(await confirmAction(
        `End session ${session.session_id}?`,
        `Its ${who} are closed, and its invites and tokens stop working. This cannot be undone.`,
        'End session',
      ))
    ) {
      return;
    }
    try {
      await this.api.endSession(session.session_id);
      this.say(`Session ${session.session_id} ended.`);
    } catch (error) {
      this.say(`Session ${session.session_id} was not ended: ${(error as Error).message}`, true);
    }
  }

  private say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.className = error ? 'status-line warning' : 'status-line';
  }
}

function roles(session: ClusterSession): string {
  const byRole = new Map<string, number>();
  for (const p of session.participants) byRole.set(p.role, (byRole.get(p.role) ?? 0) + 1);
  return [...byRole].map(([role, n]) => `${n} ${role}${n === 1 ? '' : 's'}`).join(', ');
}
