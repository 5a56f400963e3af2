import type { AiContext, AiOutcome, AiRequestOut, AiResponsePayload, ChatMessageOut } from '../../protocol';

/**
 * The chat as this window has it: messages, AI questions with their answers, and notices, in the
 * order they arrived. Pure state (no `vscode`, no I/O): `ChatService` feeds it the relay's events
 * and the user's actions, the view renders it, tests read it.
 *
 * Nothing shows twice: a message is known by its `message_id` (a replay after a reconnect brings
 * it again) and the sender's optimistic copy by its `client_message_id`; an AI question by its
 * `request_id`, and its answer's chunks by `index`.
 */
export interface Author {
  userId: string;
  displayName: string;
}

export type MessageStatus = 'pending' | 'sent' | 'refused';

export interface ChatMessageEntry {
  kind: 'message';
  /** Stable across the optimistic copy and its echo. */
  key: string;
  messageId?: string;
  clientMessageId?: string;
  author: Author;
  own: boolean;
  content: string;
  to?: string;
  /** ISO time: the relay's for a sent message, ours while pending. */
  time: string;
  status: MessageStatus;
  /** Why the relay refused it (status `refused`). */
  error?: { code: string; message: string };
}

export type AiStatus = 'asking' | 'streaming' | 'completed' | 'cancelled' | 'failed' | 'interrupted';

export interface AiExchangeEntry {
  kind: 'ai';
  key: string;
  requestId: string;
  author: Author;
  own: boolean;
  prompt: string;
  context?: AiContext;
  model?: string;
  time: string;
  /** The answer so far: the deltas of consecutive indexes from 0, or the whole text once done. */
  text: string;
  status: AiStatus;
  error?: { code: string; message: string };
  cancelledBy?: string;
}

export interface NoticeEntry {
  kind: 'notice';
  key: string;
  time: string;
  text: string;
  level: 'info' | 'warning' | 'error';
}

export type ChatEntry = ChatMessageEntry | AiExchangeEntry | NoticeEntry;

/** Entries kept; older ones are dropped first (the session log holds more for a late joiner). */
export const MAX_ENTRIES = 2000;

interface AnswerChunks {
  next: number;
  early: Map<number, string>;
}

export class ChatModel {
  private list: ChatEntry[] = [];
  private readonly byMessageId = new Map<string, ChatMessageEntry>();
  private readonly byClientId = new Map<string, ChatMessageEntry>();
  private readonly byRequestId = new Map<string, AiExchangeEntry>();
  private readonly chunks = new Map<string, AnswerChunks>();
  private counter = 0;

  get entries(): readonly ChatEntry[] {
    return this.list;
  }

  message(key: string): ChatEntry | undefined {
    return this.list.find((entry) => entry.key === key);
  }

  /** Our own message, before the relay has it. */
  sending(clientMessageId: string, author: Author, content: string, time: string, to?: string): ChatMessageEntry {
    const known = this.byClientId.get(clientMessageId);
    if (known) return known;
    const entry: ChatMessageEntry = {
      kind: 'message',
      key: `m:${clientMessageId}`,
      clientMessageId,
      author,
      own: true,
      content,
      ...(to !== undefined && { to }),
      time,
      status: 'pending',
    };
    this.byClientId.set(clientMessageId, entry);
    this.push(entry);
    return entry;
  }

  /**
   * A `chat.message` from the relay (live or replayed). Returns the entry if it is new or changed,
   * undefined for a duplicate.
   */
  received(message: ChatMessageOut, userId: string, time: string, ownUserId: string | undefined): ChatMessageEntry | undefined {
    if (this.byMessageId.has(message.message_id)) return undefined;
    const own = userId === ownUserId;
    const mine = own && message.client_message_id !== undefined ? this.byClientId.get(message.client_message_id) : undefined;
    if (mine) {
      mine.messageId = message.message_id;
      mine.status = 'sent';
      mine.time = time;
      delete mine.error;
      this.byMessageId.set(message.message_id, mine);
      return mine;
    }
    const entry: ChatMessageEntry = {
      kind: 'message',
      key: `m:${message.message_id}`,
      messageId: message.message_id,
      ...(message.client_message_id !== undefined && { clientMessageId: message.client_message_id }),
      author: { userId, displayName: message.display_name },
      own,
      content: message.content,
      ...(message.to !== undefined && { to: message.to }),
      time,
      status: 'sent',
    };
    this.byMessageId.set(message.message_id, entry);
    if (own && message.client_message_id !== undefined) this.byClientId.set(message.client_message_id, entry);
    this.push(entry);
    return entry;
  }

  /** The relay refused our message: the entry shows why, with Retry and Discard. */
  refused(clientMessageId: string, error: { code: string; message: string }): ChatMessageEntry | undefined {
    const entry = this.byClientId.get(clientMessageId);
    if (!entry || entry.status === 'sent') return undefined;
    entry.status = 'refused';
    entry.error = error;
    return entry;
  }

  /** Retry: pending again (the service sends it again with the same id). */
  retrying(clientMessageId: string): ChatMessageEntry | undefined {
    const entry = this.byClientId.get(clientMessageId);
    if (!entry || entry.status !== 'refused') return undefined;
    entry.status = 'pending';
    delete entry.error;
    return entry;
  }

  /** Drops our unsent or refused message. */
  discard(clientMessageId: string): boolean {
    const entry = this.byClientId.get(clientMessageId);
    if (!entry || entry.status === 'sent') return false;
    this.byClientId.delete(clientMessageId);
    this.list = this.list.filter((e) => e !== entry);
    return true;
  }

  /** We asked: shown at once, as "asking", until the relay echoes the question (or refuses it). */
  asking(requestId: string, author: Author, prompt: string, context: AiContext | undefined, time: string): AiExchangeEntry {
    const known = this.byRequestId.get(requestId);
    if (known) return known;
    const entry: AiExchangeEntry = {
      kind: 'ai',
      key: `ai:${requestId}`,
      requestId,
      author,
      own: true,
      prompt,
      ...(context && { context }),
      time,
      text: '',
      status: 'asking',
    };
    this.byRequestId.set(requestId, entry);
    this.push(entry);
    return entry;
  }

  /** The question as the relay echoed it to the session. */
  aiRequested(request: AiRequestOut, userId: string, time: string, ownUserId: string | undefined): AiExchangeEntry {
    const known = this.byRequestId.get(request.request_id);
    if (known) {
      known.model = request.model;
      known.time = time;
      if (known.status === 'asking') known.status = 'streaming';
      return known;
    }
    const entry: AiExchangeEntry = {
      kind: 'ai',
      key: `ai:${request.request_id}`,
      requestId: request.request_id,
      author: { userId, displayName: request.display_name },
      own: userId === ownUserId,
      prompt: request.prompt,
      ...(request.context && { context: request.context }),
      model: request.model,
      time,
      text: '',
      status: 'streaming',
    };
    this.byRequestId.set(request.request_id, entry);
    this.push(entry);
    return entry;
  }

  /**
   * A chunk of an answer. Deltas are applied in `index` order (an early one waits for the gap);
   * the last chunk's `text` is the whole answer. A chunk of an answer whose question this window
   * did not see (it joined after it) starts an entry without the question.
   */
  aiChunk(chunk: AiResponsePayload, userId: string, time: string, ownUserId: string | undefined): AiExchangeEntry | undefined {
    let entry = this.byRequestId.get(chunk.request_id);
    if (!entry) {
      entry = {
        kind: 'ai',
        key: `ai:${chunk.request_id}`,
        requestId: chunk.request_id,
        author: { userId, displayName: userId },
        own: userId === ownUserId,
        prompt: '',
        time,
        text: '',
        status: 'streaming',
      };
      this.byRequestId.set(chunk.request_id, entry);
      this.push(entry);
    }
    if (isFinal(entry.status) && entry.status !== 'interrupted') return undefined;
    if (chunk.model && !entry.model) entry.model = chunk.model;
    if (chunk.done) {
      this.chunks.delete(entry.requestId);
      entry.text = chunk.text ?? entry.text + chunk.delta;
      entry.status = chunk.outcome ?? 'completed';
      if (chunk.error) entry.error = chunk.error;
      if (chunk.cancelled_by) entry.cancelledBy = chunk.cancelled_by;
      return entry;
    }
    if (entry.status === 'asking' || entry.status === 'interrupted') entry.status = 'streaming';
    let state = this.chunks.get(entry.requestId);
    if (!state) this.chunks.set(entry.requestId, (state = { next: 0, early: new Map() }));
    if (chunk.index < state.next) return undefined;
    state.early.set(chunk.index, chunk.delta);
    let delta = state.early.get(state.next);
    while (delta !== undefined) {
      state.early.delete(state.next);
      entry.text += delta;
      state.next++;
      delta = state.early.get(state.next);
    }
    return entry;
  }

  /** The relay refused our question (an `error` with its `request_id`). */
  aiRefused(requestId: string, error: { code: string; message: string }): AiExchangeEntry | undefined {
    const entry = this.byRequestId.get(requestId);
    if (!entry || entry.status !== 'asking') return undefined;
    entry.status = 'failed';
    entry.error = error;
    return entry;
  }

  /**
   * After a reconnect has replayed what was missed: an answer still streaming whose last chunk did
   * not come (it ended while we were away and its chunks are not in the log, or its relay died)
   * ends as interrupted rather than spinning forever. Returns those ended.
   */
  interruptRunning(stillRunning: (requestId: string) => boolean = () => false): AiExchangeEntry[] {
    const ended: AiExchangeEntry[] = [];
    for (const entry of this.byRequestId.values()) {
      if ((entry.status === 'streaming' || entry.status === 'asking') && !stillRunning(entry.requestId)) {
        entry.status = 'interrupted';
        this.chunks.delete(entry.requestId);
        ended.push(entry);
      }
    }
    return ended;
  }

  /** A line in the chat from the session (joins, leaves, connection). */
  notice(text: string, level: NoticeEntry['level'], time: string): NoticeEntry {
    const entry: NoticeEntry = { kind: 'notice', key: `n:${++this.counter}`, time, text, level };
    this.push(entry);
    return entry;
  }

  clear(): void {
    this.list = [];
    this.byMessageId.clear();
    this.byClientId.clear();
    this.byRequestId.clear();
    this.chunks.clear();
  }

  private push(entry: ChatEntry): void {
    this.list.push(entry);
    if (this.list.length <= MAX_ENTRIES) return;
    for (const dropped of this.list.splice(0, this.list.length - MAX_ENTRIES)) {
      if (dropped.kind === 'message') {
        if (dropped.messageId) this.byMessageId.delete(dropped.messageId);
        if (dropped.clientMessageId) this.byClientId.delete(dropped.clientMessageId);
      } else if (dropped.kind === 'ai') {
        this.byRequestId.delete(dropped.requestId);
        this.chunks.delete(dropped.requestId);
      }
    }
  }
}

export function isFinal(status: AiStatus): status is AiOutcome | 'interrupted' {
  return status === 'completed' || status === 'cancelled' || status === 'failed' || status === 'interrupted';
}
