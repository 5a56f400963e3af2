/**
 * The messages between the chat view (extension host) and its webview script. No `vscode` or DOM
 * import: both sides use it.
 */
export interface RenderedEntry {
  key: string;
  kind: 'message' | 'ai' | 'notice';
  author?: string;
  /** The author's presence colour. */
  color?: string;
  own?: boolean;
  /** ISO time. */
  time: string;
  /** Safe HTML (see `renderMarkdown`): the message, or the AI answer so far. */
  html: string;
  /** message: pending | sent | refused; ai: asking | streaming | completed | cancelled | failed | interrupted; notice: its level. */
  status: string;
  /** A refused message's or a failed answer's reason. */
  error?: string;
  clientMessageId?: string;
  /** AI: the question (safe HTML), what it is about, the model. */
  promptHtml?: string;
  about?: string;
  model?: string;
  requestId?: string;
  /** AI: whether this window may stop it (the asker or the host). */
  canCancel?: boolean;
  /** AI: a completed answer in the session: "Was this helpful?" with thumbs. */
  canRate?: boolean;
  /** AI: the thumb given in this window, being sent or sent ("Thanks"). */
  feedback?: { rating: 'up' | 'down'; state: 'sending' | 'sent' };
  /** Plain text of an own message (Up recalls it). */
  text?: string;
}

export interface ChatViewState {
  entries: RenderedEntry[];
  /** In a live session: the input is enabled. */
  connected: boolean;
  /** Why the input is disabled. */
  status: string;
  /** Who is writing a message now. */
  typing: string[];
}

export type ToWebview = { type: 'state'; state: ChatViewState } | { type: 'focus' };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'ask'; text: string }
  | { type: 'retry'; clientMessageId: string }
  | { type: 'discard'; clientMessageId: string }
  | { type: 'cancel'; requestId: string }
  | { type: 'openLink'; href: string }
  | { type: 'openPath'; path: string; line: number; endLine?: number }
  | { type: 'insert'; code: string }
  | { type: 'copy'; code: string }
  | { type: 'typing'; active: boolean }
  /** "Was this helpful?" on an AI answer: the comment is asked for in an input box. */
  | { type: 'feedback'; requestId: string; rating: 'up' | 'down' };
