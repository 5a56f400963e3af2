import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { AiContext, RelayClient } from '../../protocol';
import type { Log } from '../log';
import type { SessionController } from '../session/session-controller';
import { type AiExchangeEntry, type ChatEntry, type ChatMessageEntry, ChatModel } from './chat-model';

/** While the user types, how often "typing" is said again (the others forget it after `TYPING_SHOWN_MS`). */
export const TYPING_REPEAT_MS = 2_000;
/** How long someone shows as typing after their last signal. */
export const TYPING_SHOWN_MS = 5_000;

/** After a reconnect, how long a running answer may stay silent before it is shown as interrupted. */
export const ANSWER_SILENCE_AFTER_RECONNECT_MS = 30_000;

/**
 * The session's chat and AI answers for this window: feeds the relay's events into the
 * `ChatModel` and sends what the user writes or asks. Only this service talks to the relay about
 * chat; the view renders its model.
 */
export class ChatService implements vscode.Disposable {
  readonly model = new ChatModel();
  private bound: RelayClient | undefined;
  private clientSubscriptions: Array<{ dispose(): void }> = [];
  private readonly subscriptions: vscode.Disposable[];
  /** When each running answer last moved (ms). */
  private readonly lastActivity = new Map<string, number>();
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private sessionId: string | undefined;
  /** Who is typing (user id -> name), each forgotten after `TYPING_SHOWN_MS` without a repeat. */
  private readonly typists = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>();
  /** When this window last said "typing" (0: it is not typing). */
  private typingSaidAt = 0;

  private readonly changed = new vscode.EventEmitter<void>();
  /** The model changed. */
  readonly onDidChange = this.changed.event;
  private readonly received = new vscode.EventEmitter<ChatEntry>();
  /** News from someone else: a chat message or an AI question (not a replayed one). */
  readonly onDidReceive = this.received.event;

  constructor(
    private readonly session: SessionController,
    private readonly log: Log,
    private readonly silenceMs = ANSWER_SILENCE_AFTER_RECONNECT_MS,
  ) {
    this.subscriptions = [session.onDidChange(() => this.follow()), session.onDidConnect(() => this.onConnected())];
    this.follow();
  }

  get connected(): boolean {
    return this.session.state === 'live';
  }

  /** The names of those typing a message now (not this window's user). */
  get typing(): string[] {
    return [...this.typists.values()].map((typist) => typist.name);
  }

  /**
   * The user is writing (`true`, on each change of a non-empty input) or cleared the input: says
   * so to the others, at most every `TYPING_REPEAT_MS` while it goes on.
   */
  setTyping(active: boolean): void {
    const client = this.session.client;
    if (!client || this.session.state !== 'live') return;
    const now = Date.now();
    if (active && now - this.typingSaidAt < TYPING_REPEAT_MS) return;
    if (!active && this.typingSaidAt === 0) return;
    if (client.send('chat.typing', { typing: active })) this.typingSaidAt = active ? now : 0;
  }

  /** Sends a message (`/ai …` asks the AI instead). Returns its entry; throws when not in a session. */
  send(text: string): ChatEntry {
    const content = text.trim();
    if (!content) throw new Error('nothing to send');
    const ai = /^\/ai(?:\s+([\s\S]*))?$/u.exec(content);
    if (ai) {
      const prompt = ai[1]?.trim();
      if (!prompt) throw new Error('write a question after /ai');
      return this.ask(prompt);
    }
    const client = this.requireClient();
    const info = this.session.info!;
    // The message itself ends "typing" for the others.
    this.typingSaidAt = 0;
    const id = newId('c');
    const entry = this.model.sending(id, { userId: info.userId, displayName: info.displayName }, content, new Date().toISOString());
    this.changed.fire();
    try {
      client.sendChat({ content, client_message_id: id });
    } catch (error) {
      this.model.refused(id, { code: 'NOT_SENT', message: error instanceof Error ? error.message : String(error) });
      this.changed.fire();
    }
    return entry;
  }

  /** Sends a refused message again, with its id (the relay logs it once). */
  retry(clientMessageId: string): void {
    const entry = this.model.retrying(clientMessageId);
    if (!entry) return;
    this.changed.fire();
    try {
      this.requireClient().sendChat({ content: entry.content, client_message_id: clientMessageId, ...(entry.to && { to: entry.to }) });
    } catch (error) {
      this.model.refused(clientMessageId, { code: 'NOT_SENT', message: error instanceof Error ? error.message : String(error) });
      this.changed.fire();
    }
  }

  discard(clientMessageId: string): void {
    if (this.model.discard(clientMessageId)) this.changed.fire();
  }

  /** Asks the relay's AI model; everyone in the session sees the question and the answer. */
  ask(prompt: string, context?: AiContext): AiExchangeEntry {
    const client = this.requireClient();
    const info = this.session.info!;
    const requestId = newId('ai');
    const entry = this.model.asking(
      requestId,
      { userId: info.userId, displayName: info.displayName },
      prompt,
      context,
      new Date().toISOString(),
    );
    this.lastActivity.set(requestId, Date.now());
    if (!client.send('ai.request', { request_id: requestId, prompt, ...(context && { context }) }))
      this.model.aiRefused(requestId, { code: 'NOT_CONNECTED', message: 'not connected to the relay; ask again when it is back' });
    this.changed.fire();
    return entry;
  }

  /** Stop: for the asker and the session's host. */
  cancel(requestId: string): boolean {
    return this.session.client?.send('ai.cancel', { request_id: requestId }) ?? false;
  }

  /** Whether this window may stop that answer (its asker, or the host). */
  mayCancel(entry: AiExchangeEntry): boolean {
    return entry.own || this.session.info?.role === 'host';
  }

  private requireClient(): RelayClient {
    const client = this.session.client;
    if (!client || !this.session.isActive || !this.session.info) throw new Error('not in a Tandem session: start or join one first');
    return client;
  }

  /** Binds to the session's client when it changes; a new session starts an empty chat. */
  private follow(): void {
    const client = this.session.client;
    if (client === this.bound) return;
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.dispose();
    this.bound = client;
    this.forgetTypists();
    this.typingSaidAt = 0;
    if (!client) {
      // The session ended: an answer that was still coming will not.
      if (this.model.interruptRunning().length > 0) this.changed.fire();
      return;
    }
    const sessionId = this.session.info?.sessionId;
    if (sessionId !== this.sessionId) {
      this.sessionId = sessionId;
      this.model.clear();
      this.lastActivity.clear();
      this.changed.fire();
    }
    const me = () => this.session.info?.userId;
    const isNews = (timestamp: string) => {
      const at = client.connection?.server_time;
      return !at || !(Date.parse(timestamp) < Date.parse(at));
    };
    this.clientSubscriptions.push(
      client.on('chat.typing', ({ typing, display_name: name }, frame) => this.onTyping(frame.user_id, typing && name)),
      client.on('chat.message', (message, frame) => {
        if (this.typists.has(frame.user_id)) this.onTyping(frame.user_id, false);
        const entry = this.model.received(message, frame.user_id, frame.timestamp, me());
        if (!entry) return;
        this.changed.fire();
        if (!entry.own && isNews(frame.timestamp)) this.received.fire(entry);
      }),
      client.onChatRefused(({ message, code, reason }) => {
        this.log.warn(`the relay refused chat message ${message.client_message_id}: ${code} ${reason}`);
        if (this.model.refused(message.client_message_id, { code, message: reason })) this.changed.fire();
      }),
      client.on('ai.request', (request, frame) => {
        const known = this.model.entries.some((e) => e.kind === 'ai' && e.requestId === request.request_id);
        const entry = this.model.aiRequested(request, frame.user_id, frame.timestamp, me());
        this.lastActivity.set(request.request_id, Date.now());
        this.changed.fire();
        if (!known && !entry.own && isNews(frame.timestamp)) this.received.fire(entry);
      }),
      client.on('ai.response', (chunk, frame) => {
        this.lastActivity.set(chunk.request_id, Date.now());
        if (this.model.aiChunk(chunk, frame.user_id, frame.timestamp, me())) this.changed.fire();
      }),
      client.on('error', (error) => {
        if (error.request_id && (error.event_type === 'ai.request' || error.code.startsWith('AI_'))) {
          if (this.model.aiRefused(error.request_id, { code: error.code, message: error.message })) this.changed.fire();
          else if (error.event_type === 'ai.cancel') this.model.notice(`Could not stop the answer: ${error.message}`, 'warning', now());
          this.changed.fire();
        }
      }),
      client.onSessionLogLost(() => {
        // What happened while away is gone, answers' last chunks with it.
        if (this.model.interruptRunning().length > 0) this.changed.fire();
      }),
    );
  }

  /** Someone started (`name`) or stopped (`false`) typing. */
  private onTyping(userId: string, name: string | false): void {
    const known = this.typists.get(userId);
    if (known) clearTimeout(known.timer);
    if (name === false) {
      if (known) {
        this.typists.delete(userId);
        this.changed.fire();
      }
      return;
    }
    const timer = setTimeout(() => this.onTyping(userId, false), TYPING_SHOWN_MS);
    this.typists.set(userId, { name, timer });
    if (!known || known.name !== name) this.changed.fire();
  }

  private forgetTypists(): void {
    for (const { timer } of this.typists.values()) clearTimeout(timer);
    if (this.typists.size === 0) return;
    this.typists.clear();
    this.changed.fire();
  }

  /**
   * Every (re)connection: an answer that was running when the connection dropped either goes on
   * (its chunks come live), ended meanwhile (its last chunk comes with what was missed), or its
   * relay lost it: one that stays silent for a while after the reconnect is shown as interrupted.
   */
  private onConnected(): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const since = Date.now();
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = undefined;
      const ended = this.model.interruptRunning((id) => (this.lastActivity.get(id) ?? 0) > since);
      if (ended.length > 0) this.changed.fire();
    }, this.silenceMs);
  }

  dispose(): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    for (const { timer } of this.typists.values()) clearTimeout(timer);
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
    this.received.dispose();
  }
}

function newId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

function now(): string {
  return new Date().toISOString();
}

export type { ChatMessageEntry };
