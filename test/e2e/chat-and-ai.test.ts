/**
 * End to end through the UI of two VS Code windows: the Chat view. A guest's message with a code
 * block reaches the host and renders there (highlighted, no HTML from the message run), and an AI
 * answer, asked with `/ai` by the guest, streams into both windows from a local server that speaks
 * the OpenAI-compatible wire format, then ends in both with the same text. Screenshots of both
 * chat views land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeModelServer } from '../support/fake-model-server';
import type { Workbench } from '../support/workbench';
import { ChatPanel } from './support/chat-panel';
import { PairWindows } from './support/pair-windows';

describe('chat and AI answers through the UI of two VS Code windows', { timeout: 600_000 }, () => {
  let pair: PairWindows;
  let model: FakeModelServer;
  let host: Workbench;
  let guest: Workbench;
  let hostChat: ChatPanel;
  let guestChat: ChatPanel;

  before(async () => {
    model = await FakeModelServer.start();
    pair = await PairWindows.start({
      name: 'chat-and-ai',
      hostFiles: { 'src/app.ts': 'export const answer = 42;\n' },
      relayEnv: { AI_BASE_URL: model.baseUrl, AI_API_KEY: 'local-test-key', AI_MODEL: 'fake-coder' },
    });
    ({ host, guest } = pair);
    await pair.joinSession(await pair.startSession());
    await host.statusBar(/Tandem: live.*2/s, 60_000);
    hostChat = await ChatPanel.open(host);
    guestChat = await ChatPanel.open(guest);
  });

  after(async () => {
    await pair?.close();
    await model?.close();
  });

  it('a guest’s message with a code block reaches the host and renders: highlighted code, the HTML in it shown as text', async () => {
    await guestChat.send('Try this <img src=x onerror="alert(1)">:\n```ts\nconst total = items.length;\n```');
    const shown = await hostChat.entry('li.entry.message', 'Try this');
    assert.match(shown, /<pre[^>]*>.*<code[^>]*>.*total.*<\/code>/s, 'the code block renders as code');
    assert.match(shown, /hljs-keyword[^>]*>const</, 'highlighted');
    assert.doesNotMatch(shown, /<img/i, 'the HTML in the message is not markup');
    assert.match(shown, /&lt;img src=x onerror=/, 'it is shown as text');
    // The guest sees its own message once, no longer pending.
    const own = await guestChat.entry('li.entry.message.own:not(.status-pending)', 'Try this');
    assert.match(own, /total/);
    await hostChat.screenshot('chat-and-ai-message-host');
  });

  it('an AI answer asked with /ai streams into both windows and ends in both with the same text', async () => {
    // Held after the first delta: both windows show the answer growing, with the asker's Stop.
    model.enqueue({ deltas: ['Use `reduce`', ' to sum them:\n\n```ts\nconst sum = xs.reduce((a, b) => a + b, 0);\n```'], holdAfter: 1 });
    await guestChat.send('/ai how do I sum an array?');
    for (const chat of [hostChat, guestChat]) await chat.entry('li.entry.ai.status-streaming', 'Use reduce');
    await guestChat.entry('li.entry.ai.status-streaming button', 'Stop');
    await guestChat.screenshot('chat-and-ai-streaming-guest');
    model.release();
    const answers = await Promise.all([hostChat, guestChat].map((chat) => chat.entry('li.entry.ai.status-completed', 'to sum them')));
    for (const answer of answers) {
      assert.match(answer, /how do I sum an array/, 'under the question');
      assert.match(answer, /<code[^>]*>.*reduce/s, 'the code block');
      assert.match(answer, /fake-coder/, 'the model');
      assert.doesNotMatch(answer, /aria-busy="true"/, 'no spinner left');
    }
    assert.equal(model.requests.length, 1, 'one question, one model call');
    assert.equal(model.requests[0]!.authorization, 'Bearer local-test-key', 'the key is the relay’s');
    await hostChat.screenshot('chat-and-ai-answer-host');
    await guestChat.screenshot('chat-and-ai-answer-guest');
  });
});
