/**
 * The chat webview's script (bundled by esbuild for the browser, dist/webview/chat-view.js): shows
 * the state the extension posts (its HTML is rendered and sanitised there) and posts back what the
 * user does. Follows no link itself. Keyboard: Enter sends, Shift+Enter is a new line, Up in an
 * empty input recalls your last message, Escape leaves the input.
 */
import type { ChatViewState, FromWebview, RenderedEntry, ToWebview } from '../chat-protocol';

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };
const vscode = acquireVsCodeApi();

const list = document.getElementById('messages') as HTMLOListElement;
const input = document.getElementById('input') as HTMLTextAreaElement;
const form = document.getElementById('composer') as HTMLFormElement;
const status = document.getElementById('status') as HTMLParagraphElement;
const typing = document.getElementById('typing') as HTMLParagraphElement;
const askButton = document.getElementById('ask') as HTMLButtonElement;
let state: ChatViewState = { entries: [], connected: false, status: '', typing: [] };
/** key -> [signature, element]: an entry is rebuilt only when it changed. */
const shown = new Map<string, [string, HTMLLIElement]>();

const aiLabel: Record<string, string> = {
  asking: 'Asking…',
  streaming: 'Answering…',
  completed: '',
  cancelled: 'Stopped',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label: string, onClick: () => void, title?: string): HTMLButtonElement {
  const b = el('button', 'link-button', label);
  b.type = 'button';
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

function header(entry: RenderedEntry): HTMLElement {
  const head = el('div', 'meta');
  const who = el('span', 'author', entry.author ?? '');
  if (entry.color) who.style.color = entry.color;
  head.append(who);
  const time = el('time', 'time', new Date(entry.time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  time.dateTime = entry.time;
  head.append(time);
  return head;
}

function build(entry: RenderedEntry): HTMLLIElement {
  const item = el('li', `entry ${entry.kind} status-${entry.status}${entry.own ? ' own' : ''}`);
  item.dataset.key = entry.key;
  if (entry.color) item.style.setProperty('--author-color', entry.color);
  if (entry.kind === 'notice') {
    const body = el('div', 'notice-text');
    body.innerHTML = entry.html;
    item.append(body);
    return item;
  }
  item.append(header(entry));
  if (entry.kind === 'message') {
    const body = el('div', 'body');
    body.innerHTML = entry.html;
    item.append(body);
    if (entry.status === 'pending') item.append(el('div', 'state', 'Sending…'));
    if (entry.status === 'refused' && entry.clientMessageId) {
      const id = entry.clientMessageId;
      const line = el('div', 'state error');
      line.setAttribute('role', 'alert');
      line.append(el('span', '', `Not sent: ${entry.error ?? 'refused by the relay'} `));
      line.append(button('Retry', () => vscode.postMessage({ type: 'retry', clientMessageId: id })));
      line.append(button('Discard', () => vscode.postMessage({ type: 'discard', clientMessageId: id })));
      item.append(line);
    }
    return item;
  }
  const question = el('div', 'question');
  question.append(el('span', 'asked', 'asked the AI' + (entry.about ? ` about ${entry.about}` : '') + ':'));
  const prompt = el('div', 'prompt');
  prompt.innerHTML = entry.promptHtml ?? '';
  question.append(prompt);
  item.append(question);
  const answer = el('div', 'body answer');
  answer.innerHTML = entry.html;
  answer.setAttribute('aria-busy', String(entry.status === 'asking' || entry.status === 'streaming'));
  item.append(answer);
  const foot = el('div', 'state');
  const label = aiLabel[entry.status] ?? entry.status;
  if (label) foot.append(el('span', entry.status === 'streaming' || entry.status === 'asking' ? 'busy' : '', label));
  if (entry.error) {
    const reason = el('span', 'error', ` ${entry.error}`);
    if (entry.status === 'failed') reason.setAttribute('role', 'alert');
    foot.append(reason);
  }
  if (entry.model && entry.status === 'completed') foot.append(el('span', 'model', entry.model));
  if (entry.canCancel && entry.requestId) {
    const id = entry.requestId;
    foot.append(button('Stop', () => vscode.postMessage({ type: 'cancel', requestId: id }), 'Stop this answer for everyone'));
  }
  item.append(foot);
  if (entry.kind === 'ai' && entry.status === 'completed' && entry.requestId) {
    const rate = helpful(entry.requestId, entry.canRate === true, entry.feedback);
    if (rate) item.append(rate);
  }
  return item;
}

/** "Was this helpful?" with thumbs under a completed answer; "Thanks" once sent. */
function helpful(requestId: string, canRate: boolean, feedback: RenderedEntry['feedback']): HTMLElement | undefined {
  const line = el('div', 'feedback');
  if (feedback?.state === 'sent') {
    line.append(el('span', 'thanks', `${feedback.rating === 'up' ? '👍' : '👎'} Thanks for the feedback!`));
    line.setAttribute('role', 'status');
    return line;
  }
  if (feedback?.state === 'sending') {
    line.append(el('span', 'busy', 'Sending feedback…'));
    return line;
  }
  if (!canRate) return undefined;
  line.append(el('span', 'question', 'Was this helpful?'));
  for (const [rating, label, title] of [
    ['up', '👍', 'Helpful'],
    ['down', '👎', 'Not helpful'],
  ] as const) {
    const thumb = button(label, () => vscode.postMessage({ type: 'feedback', requestId, rating }), title);
    thumb.classList.add('thumb');
    thumb.setAttribute('aria-label', title);
    line.append(thumb);
  }
  return line;
}

function render(): void {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const keys = new Set(state.entries.map((e) => e.key));
  for (const [key, [, node]] of shown) {
    if (!keys.has(key)) {
      node.remove();
      shown.delete(key);
    }
  }
  let previous: HTMLLIElement | undefined;
  for (const entry of state.entries) {
    const signature = JSON.stringify(entry);
    const known = shown.get(entry.key);
    let node: HTMLLIElement;
    if (!known || known[0] !== signature) {
      node = build(entry);
      known?.[1].replaceWith(node);
      shown.set(entry.key, [signature, node]);
    } else node = known[1];
    const expected: Element | null = previous ? previous.nextElementSibling : list.firstElementChild;
    if (expected !== node) {
      if (previous) previous.after(node);
      else list.prepend(node);
    }
    previous = node;
  }
  status.textContent = state.status;
  typing.textContent = typingLine(state.typing);
  input.disabled = !state.connected;
  askButton.disabled = !state.connected;
  (document.getElementById('send') as HTMLButtonElement).disabled = !state.connected;
  if (atBottom) list.scrollTop = list.scrollHeight;
}

/** "Ana is typing…", "Ana and Bo are typing…", "3 people are typing…", or nothing. */
function typingLine(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

/** Tells the extension the user is writing; it says so to the others at its own pace. */
let typingPosted = 0;
input.addEventListener('input', () => {
  const active = input.value.trim() !== '';
  const now = Date.now();
  if (active && now - typingPosted < 1000) return;
  typingPosted = active ? now : 0;
  vscode.postMessage({ type: 'typing', active });
});

function submit(type: 'send' | 'ask'): void {
  const text = input.value.trim();
  if (!text || !state.connected) return;
  vscode.postMessage({ type, text });
  input.value = '';
  typingPosted = 0;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  submit('send');
});
askButton.addEventListener('click', () => submit('ask'));
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit('send');
  } else if (event.key === 'ArrowUp' && input.value === '') {
    const last = [...state.entries].reverse().find((e) => e.kind === 'message' && e.own && e.text);
    if (last?.text) {
      event.preventDefault();
      input.value = last.text;
    }
  } else if (event.key === 'Escape') {
    input.blur();
  }
});

// Links and code actions: the extension decides (openExternal with VS Code's confirmation, a shared file at a line).
list.addEventListener('click', (event) => {
  const target = event.target as HTMLElement;
  const action = target.closest<HTMLButtonElement>('button.code-action');
  if (action) {
    const code = action.closest('.code-block')?.querySelector('pre code, pre')?.textContent ?? '';
    vscode.postMessage({ type: action.dataset.action === 'copy' ? 'copy' : 'insert', code });
    return;
  }
  const link = target.closest<HTMLAnchorElement>('a');
  if (!link) return;
  event.preventDefault();
  if (link.dataset.path) {
    vscode.postMessage({
      type: 'openPath',
      path: link.dataset.path,
      line: Number(link.dataset.line),
      ...(link.dataset.endLine && { endLine: Number(link.dataset.endLine) }),
    });
  } else {
    const href = link.getAttribute('href');
    if (href) vscode.postMessage({ type: 'openLink', href });
  }
});

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (message.type === 'state') {
    state = message.state;
    render();
  } else if (message.type === 'focus') {
    input.focus();
  }
});

vscode.postMessage({ type: 'ready' });
