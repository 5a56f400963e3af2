/**
 * The chat in VS Code against a real relay (a child process) with an AI model server of ours
 * (OpenAI's SSE wire): this window hosts (or joins) a session, guests are typed clients. The
 * chat state lives in the extension host (`api.chat.model`); what the webview is posted is
 * `api.chatView.lastState` (the exact HTML), and what the user does in the webview goes through
 * `api.chatView.handle`, the webview script's one way to act.
 */
import assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, teardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { type ChatMessageOut, createNodeWsTransport, type AiResponsePayload, RelayClient } from '../../../protocol';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import type { TandemApi } from '../../../extension/extension';
import type { AiExchangeEntry, ChatMessageEntry } from '../../../extension/chat/chat-model';
import type { RenderedEntry } from '../../../extension/chat/chat-protocol';
import { FakeModelServer } from '../../support/fake-model-server';
import { RelayProcess } from '../../support/relay-process';
import { eventually } from '../support/eventually';

const transport = createNodeWsTransport(WebSocket);

async function post<T>(url: string, body: unknown, token?: string): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** A participant outside VS Code, with what it received. */
class Peer {
  readonly chats: Array<{ message: ChatMessageOut; user: string }> = [];
  readonly chunks: AiResponsePayload[] = [];
  constructor(readonly client: RelayClient) {
    client.on('chat.message', (message, frame) => this.chats.push({ message, user: frame.user_id }));
    client.on('ai.response', (chunk) => this.chunks.push(chunk));
  }
  static async connect(wsUrl: string, token: string): Promise<Peer> {
    const peer = new Peer(new RelayClient({ url: wsUrl, token, transport }));
    peer.client.connect();
    await eventually(
      () => peer.client.state === 'open',
      () => `the peer to connect (${peer.client.state})`,
    );
    return peer;
  }
  static async redeem(relay: RelayProcess, link: string, name: string): Promise<Peer> {
    const invite = new URL(link).searchParams.get('invite')!;
    const redeemed = await post<{ token: string; ws_url: string }>(`${relay.httpUrl}/api/invites/redeem`, { invite, name });
    return Peer.connect(redeemed.ws_url, redeemed.token);
  }
}

suite('chat', () => {
  let relay: RelayProcess;
  let model: FakeModelServer;
  let api: TandemApi;
  const peers: Peer[] = [];
  const session = () => api.session;
  const entries = () => api.chat.model.entries;
  const posted = (): readonly RenderedEntry[] => api.chatView.state().entries;
  const describeChat = () => JSON.stringify(api.chatView.state().entries.map((e) => [e.kind, e.author, e.status, e.html.slice(0, 80)]));

  async function host(): Promise<{ guest: Peer }> {
    await vscode.commands.executeCommand('tandem.setPersonalToken', mintPersonalToken(relay.secret, { user: 'hana', ttl: '1h' }));
    await vscode.commands.executeCommand('tandem.startSession');
    await eventually(
      () => session().state === 'live',
      () => session().state,
    );
    const guest = await Peer.redeem(relay, session().info!.invites!.editor.link, 'Bob');
    peers.push(guest);
    return { guest };
  }

  suiteSetup(async () => {
    model = await FakeModelServer.start();
    relay = await RelayProcess.start({ AI_MODEL: 'fake-model', AI_BASE_URL: model.baseUrl, WS_MAX_MESSAGES_PER_SECOND: '1000' });
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    await vscode.workspace.getConfiguration('tandem').update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('tandem').update('displayName', 'Hana Host', vscode.ConfigurationTarget.Global);
  });
  teardown(async () => {
    for (const peer of peers.splice(0)) peer.client.dispose();
    if (session().isActive) session().leave();
    session().reset();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
  suiteTeardown(async () => {
    await relay?.stop();
    await model?.close();
    await vscode.workspace.getConfiguration('tandem').update('relayUrl', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('tandem').update('displayName', undefined, vscode.ConfigurationTarget.Global);
  });

  test('the Chat view opens; messages go both ways, pending until their echo, each once, with name, colour and time', async () => {
    const { guest } = await host();
    await vscode.commands.executeCommand('tandem.openChat');
    await eventually(
      () => api.chatView.visible,
      () => 'the chat view to show',
    );
    await api.chatView.handle({ type: 'send', text: 'hello **Bob**' });
    const mine = entries().at(-1) as ChatMessageEntry;
    assert.equal(mine.own, true);
    await eventually(
      () => guest.chats.some((c) => c.message.content === 'hello **Bob**'),
      () => `Bob to get it: ${JSON.stringify(guest.chats)}`,
    );
    await eventually(
      () => mine.status === 'sent',
      () => `the echo: ${describeChat()}`,
    );
    guest.client.sendChat({ content: 'hi `Hana`, see https://example.com/docs' });
    await eventually(() => entries().some((e) => e.kind === 'message' && e.content.startsWith('hi `Hana`')), describeChat);
    const rendered = posted().filter((e) => e.kind === 'message');
    assert.equal(rendered.length, 2, `each once: ${describeChat()}`);
    assert.equal(rendered[0]!.html, '<p>hello <strong>Bob</strong></p>\n');
    assert.deepEqual([rendered[1]!.author, rendered[1]!.own, typeof rendered[1]!.color], ['Bob', false, 'string']);
    assert.match(rendered[1]!.html, /<code>Hana<\/code>/u);
    assert.match(rendered[1]!.html, /<a href="https:\/\/example.com\/docs" class="external-link" rel="noreferrer noopener">/u);
    assert.ok(!Number.isNaN(Date.parse(rendered[1]!.time)));
    assert.equal(api.chatView.lastState?.entries.length, posted().length, 'the webview was posted the same state');
  });

  test('"… is typing": a guest typing shows until their message comes; this window’s typing reaches the others', async () => {
    const { guest } = await host();
    const typingAtGuest: Array<{ typing: boolean; name: string; user: string }> = [];
    guest.client.on('chat.typing', (p, frame) => typingAtGuest.push({ typing: p.typing, name: p.display_name, user: frame.user_id }));
    guest.client.send('chat.typing', { typing: true });
    await eventually(
      () => api.chatView.state().typing.join() === 'Bob',
      () => `Bob typing: ${JSON.stringify(api.chatView.state().typing)}`,
    );
    guest.client.sendChat({ content: 'written' });
    await eventually(
      () => api.chatView.state().typing.length === 0,
      () => `Bob no longer typing: ${JSON.stringify(api.chatView.state().typing)}`,
    );
    await api.chatView.handle({ type: 'typing', active: true });
    await api.chatView.handle({ type: 'typing', active: false });
    await eventually(
      () => typingAtGuest.length === 2,
      () => `the guest to see Hana start and stop: ${JSON.stringify(typingAtGuest)}`,
    );
    // The name the relay knows this user by (its token's), as on its messages.
    const name = session().participants.find((p) => p.user_id === 'hana')?.display_name;
    assert.deepEqual(
      typingAtGuest.map((t) => [t.typing, t.name, t.user]),
      [
        [true, name, 'hana'],
        [false, name, 'hana'],
      ],
    );
  });

  test('a message with HTML and a javascript: link renders as text, with no link; path:line opens the file at the line', async () => {
    const { guest } = await host();
    guest.client.sendChat({ content: '<img src=x onerror="alert(1)"> <script>alert(2)</script> [click](javascript:alert(3)) README.md:1' });
    await eventually(() => posted().some((e) => e.html.includes('onerror')), describeChat);
    const html = posted().find((e) => e.html.includes('onerror'))!.html;
    assert.doesNotMatch(html, /<img|<script|href="javascript/iu);
    assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/u);
    assert.match(html, /\[click\]\(javascript:alert\(3\)\)/u);
    assert.match(html, /<a href="#" class="path-ref" data-path="README.md" data-line="1"/u);
    // A javascript: link posted by a tampered webview is not opened either.
    await api.chatView.handle({ type: 'openLink', href: 'javascript:alert(1)' });

    await api.chatView.handle({ type: 'openPath', path: 'README.md', line: 1 });
    await eventually(
      () => vscode.window.activeTextEditor?.document.uri.path.endsWith('/README.md') === true,
      () => `README.md to open (active: ${vscode.window.activeTextEditor?.document.uri.toString()})`,
    );
    assert.equal(vscode.window.activeTextEditor!.selection.active.line, 0);
  });

  test('Send Selection to Chat quotes the selection with its file and lines', async () => {
    const { guest } = await host();
    const document = await vscode.workspace.openTextDocument({
      language: 'typescript',
      content: 'const a = 1;\nconst b = 2;\nconst c = 3;\n',
    });
    const editor = await vscode.window.showTextDocument(document);
    editor.selection = new vscode.Selection(1, 0, 2, 12);
    await vscode.commands.executeCommand('tandem.sendSelectionToChat');
    await eventually(
      () => guest.chats.some((c) => c.message.content.includes('const b = 2;')),
      () => JSON.stringify(guest.chats),
    );
    const quoted = guest.chats.find((c) => c.message.content.includes('const b = 2;'))!.message.content;
    assert.match(quoted, /^\S+:2-3\n```typescript\nconst b = 2;\nconst c = 3;\n```$/u);
    const rendered = posted().find((e) => e.html.includes('code-block'))!;
    assert.match(rendered.html, /<span class="hljs-keyword">const<\/span>/u);

    // Insert at Cursor puts a code block into the last active editor.
    editor.selection = new vscode.Selection(3, 0, 3, 0);
    await api.chatView.handle({ type: 'insert', code: 'const d = 4;' });
    assert.equal(document.lineAt(3).text, 'const d = 4;');
  });

  test('a late joiner sees the chat so far, once; its own messages are not doubled by a reconnect', async () => {
    const created = await post<{ host: { token: string }; invites: { editor: { link: string } } }>(
      `${relay.httpUrl}/api/sessions`,
      {},
      mintPersonalToken(relay.secret, { user: 'olga', name: 'Olga', ttl: '1h' }),
    );
    const olga = await Peer.connect(relay.url, created.host.token);
    peers.push(olga);
    for (const content of ['first', 'second', 'third']) olga.client.sendChat({ content });
    await eventually(
      () => olga.chats.length === 3,
      () => JSON.stringify(olga.chats),
    );
    await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
    await eventually(
      () => session().state === 'live',
      () => session().state,
    );
    const contents = () => entries().flatMap((e) => (e.kind === 'message' ? [e.content] : []));
    await eventually(
      () => contents().length === 3,
      () => `the history: ${describeChat()}`,
    );
    assert.deepEqual(contents(), ['first', 'second', 'third']);
    await api.chatView.handle({ type: 'send', text: 'mine' });
    await eventually(
      () => olga.chats.length === 4,
      () => JSON.stringify(olga.chats),
    );
    olga.client.sendChat({ content: 'after' });
    await eventually(() => contents().length === 5, describeChat);
    assert.deepEqual(contents(), ['first', 'second', 'third', 'mine', 'after']);
  });

  test('a message the relay refuses shows why, with Retry (which sends it) and Discard', async function () {
    this.timeout(60_000);
    const strict = await RelayProcess.start({ WS_MAX_MESSAGES_PER_SECOND: '3' });
    try {
      await vscode.workspace.getConfiguration('tandem').update('relayUrl', strict.httpUrl, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('tandem.setPersonalToken', mintPersonalToken(strict.secret, { user: 'hana', ttl: '1h' }));
      await vscode.commands.executeCommand('tandem.startSession');
      await eventually(
        () => session().state === 'live',
        () => session().state,
      );
      await new Promise((resolve) => setTimeout(resolve, 1100));
      for (let n = 0; n < 8; n++) await api.chatView.handle({ type: 'send', text: `burst ${n}` });
      const refused = () => entries().filter((e): e is ChatMessageEntry => e.kind === 'message' && e.status === 'refused');
      // Every message of the burst settled (sent or refused): refusals come back one by one.
      const burst = () => entries().filter((e): e is ChatMessageEntry => e.kind === 'message' && e.content.startsWith('burst '));
      await eventually(() => burst().length === 8 && burst().every((e) => e.status !== 'pending'), describeChat);
      assert.ok(refused().length > 0, describeChat());
      const rendered = posted().find((e) => e.status === 'refused')!;
      assert.match(rendered.error!, /RATE_LIMITED/u);
      const ids = new Set(session().client!.pendingChat.map((m) => m.client_message_id));
      assert.ok(!refused().some((e) => ids.has(e.clientMessageId!)), 'a refused message is no longer pending in the client');
      const [first, ...others] = refused();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await api.chatView.handle({ type: 'retry', clientMessageId: first!.clientMessageId! });
      await eventually(
        () => first!.status === 'sent',
        () => `the retry: ${describeChat()}`,
      );
      for (const other of others) await api.chatView.handle({ type: 'discard', clientMessageId: other.clientMessageId! });
      assert.equal(refused().length, 0);
      assert.ok(!posted().some((e) => e.status === 'refused'));
    } finally {
      if (session().isActive) session().leave();
      session().reset();
      await vscode.workspace.getConfiguration('tandem').update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
      await strict.stop();
    }
  });

  test('AI: /ai streams an answer into everyone’s chat; Stop cancels; a refused question says why', async () => {
    const { guest } = await host();
    model.enqueue({ deltas: ['Use ', '`const`', '.\n\n```ts\nconst x = 1;\n```'], delayMs: 20 });
    await api.chatView.handle({ type: 'send', text: '/ai how do I declare x?' });
    const ai = () => entries().filter((e): e is AiExchangeEntry => e.kind === 'ai');
    await eventually(
      () => ai()[0]?.status === 'completed',
      () => `the answer: ${describeChat()}`,
    );
    const answer = ai()[0]!;
    assert.equal(answer.prompt, 'how do I declare x?');
    assert.equal(answer.text, 'Use `const`.\n\n```ts\nconst x = 1;\n```');
    const rendered = posted().find((e) => e.kind === 'ai')!;
    assert.match(rendered.html, /data-action="insert"/u);
    assert.match(rendered.promptHtml!, /how do I declare x\?/u);
    await eventually(
      () => guest.chunks.some((c) => c.done),
      () => 'the guest to see the end',
    );

    // Stop: the asker cancels a held answer.
    model.enqueue({ deltas: ['partial', ' more'], holdAfter: 1 });
    await api.chatView.handle({ type: 'ask', text: 'a long one' });
    await eventually(
      () => ai()[1]?.text === 'partial',
      () => `the first chunk: ${describeChat()}`,
    );
    assert.equal(posted().find((e) => e.requestId === ai()[1]!.requestId)!.canCancel, true);
    await api.chatView.handle({ type: 'cancel', requestId: ai()[1]!.requestId });
    await eventually(
      () => ai()[1]!.status === 'cancelled',
      () => `the cancel: ${describeChat()}`,
    );
    assert.match(posted().find((e) => e.requestId === ai()[1]!.requestId)!.error!, /Stopped by you/u);
    model.release();

    // Ask AI About Selection: the prompt (given) and the selection with its file and lines.
    const document = await vscode.workspace.openTextDocument({ language: 'typescript', content: 'let y = 2;\n' });
    const editor = await vscode.window.showTextDocument(document);
    editor.selection = new vscode.Selection(0, 0, 0, 10);
    model.enqueue({ deltas: ['ok'] });
    await vscode.commands.executeCommand('tandem.askAiAboutSelection', 'what is y?');
    await eventually(
      () => ai()[2]?.status === 'completed',
      () => `the selection answer: ${describeChat()}`,
    );
    assert.deepEqual(
      [ai()[2]!.context?.selection, ai()[2]!.context?.language, ai()[2]!.context?.line_start, ai()[2]!.context?.line_end],
      ['let y = 2;', 'typescript', 1, 1],
    );
    const request = model.requests
      .at(-1)!
      .body.messages!.map((m) => m.content)
      .join('\n');
    assert.match(request, /let y = 2;/u);
  });

  test('feedback: thumbs on a completed answer (with a comment) and Send Feedback reach the relay; an invalid one warns', async () => {
    await host();
    const prompts = api.feedback.prompts;
    /** Prometheus' count of feedback with this rating on the relay. */
    const counted = async (rating: string): Promise<number> => {
      const text = await (await fetch(`${relay.httpUrl}/metrics`)).text();
      // Its labels: the rating and the relay's id (a default label).
      const line = text.split('\n').find((l) => l.startsWith('tandem_feedback_total{') && l.includes(`rating="${rating}"`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    try {
      model.enqueue({ deltas: ['Use ', '`let`.'] });
      await api.chatView.handle({ type: 'ask', text: 'how do I declare y?' });
      const answer = () => entries().find((e): e is AiExchangeEntry => e.kind === 'ai');
      await eventually(
        () => answer()?.status === 'completed',
        () => `the answer: ${describeChat()}`,
      );
      const requestId = answer()!.requestId;
      const rendered = () => posted().find((e) => e.requestId === requestId)!;
      assert.equal(rendered().canRate, true, 'a completed answer asks "Was this helpful?"');
      assert.equal(rendered().feedback, undefined);

      const ups = await counted('up');
      const comments: string[] = [];
      api.feedback.prompts = { ...prompts, comment: async (prompt) => (comments.push(prompt), 'clear and short') };
      const sent = new Promise<{ id: string; body: unknown }>((resolve) => api.feedback.onDidSend(resolve));
      await api.chatView.handle({ type: 'feedback', requestId, rating: 'up' });
      const { id, body } = await sent;
      assert.match(id, /^\d+-\d+$/u, 'the relay accepted it (202 with the stream entry id)');
      assert.deepEqual(body, {
        rating: 'up',
        comment: 'clear and short',
        about: { kind: 'ai_answer', session_id: session().info!.sessionId, request_id: requestId },
      });
      assert.equal(comments.length, 1, 'the comment was asked for once');
      assert.deepEqual(rendered().feedback, { rating: 'up', state: 'sent' }, 'the chat shows "Thanks"');
      assert.equal(api.chatView.lastState?.entries.find((e) => e.requestId === requestId)?.feedback?.state, 'sent');
      assert.equal(await counted('up'), ups + 1, 'the relay counted it');
      // A second click on the same answer sends nothing more.
      await api.chatView.handle({ type: 'feedback', requestId, rating: 'down' });
      assert.equal(await counted('down'), 0);

      // Tandem: Send Feedback: 4 stars, about this session, a comment.
      const fours = await counted('4');
      let offered: unknown[] = [];
      api.feedback.prompts = {
        rating: async () => 4,
        subject: async (choices) => ((offered = choices.map((c) => c.about)), choices[0]!.about),
        comment: async () => 'smooth session',
      };
      const id2 = await vscode.commands.executeCommand<string | undefined>('tandem.sendFeedback');
      assert.match(id2 ?? '', /^\d+-\d+$/u);
      assert.deepEqual(offered, [{ kind: 'session', session_id: session().info!.sessionId }, { kind: 'product' }]);
      assert.equal(await counted('4'), fours + 1);
      assert.ok(api.notifier.shown.some((n) => n.message === 'Tandem: thanks for the feedback!'));

      // Checked before it goes: a six-star rating posts nothing and warns.
      api.feedback.prompts = { rating: async () => 6, subject: async () => ({ kind: 'product' }), comment: async () => '' };
      assert.equal(await vscode.commands.executeCommand('tandem.sendFeedback'), undefined);
      assert.equal(await counted('6'), 0);
      assert.match(api.notifier.shown.at(-1)!.message, /^Tandem: feedback not sent: invalid feedback \(rating\)/u);
      assert.equal(api.notifier.shown.at(-1)!.severity, 'warning');
    } finally {
      api.feedback.prompts = prompts;
    }
  });

  test('AI on a relay without a model: the question ends with the relay’s reason, not a spinner', async function () {
    this.timeout(60_000);
    const plain = await RelayProcess.start();
    try {
      await vscode.workspace.getConfiguration('tandem').update('relayUrl', plain.httpUrl, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('tandem.setPersonalToken', mintPersonalToken(plain.secret, { user: 'hana', ttl: '1h' }));
      await vscode.commands.executeCommand('tandem.startSession');
      await eventually(
        () => session().state === 'live',
        () => session().state,
      );
      await api.chatView.handle({ type: 'send', text: '/ai anyone there?' });
      await eventually(
        () => entries().some((e) => e.kind === 'ai' && e.status === 'failed'),
        () => `the refusal: ${describeChat()}`,
      );
      const rendered = posted().find((e) => e.kind === 'ai')!;
      assert.equal(rendered.error, 'no AI model is configured on this relay');
      assert.equal(rendered.canCancel, false);
    } finally {
      if (session().isActive) session().leave();
      session().reset();
      await vscode.workspace.getConfiguration('tandem').update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
      await plain.stop();
    }
  });
});
