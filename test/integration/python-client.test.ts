import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeClientFrame } from '../../protocol';
import { startTestRelay, type TestRelay } from '../support/relay-fixture';
import { PYTHON, type PythonRun, pythonPrint, requirePythonModule, runPython } from '../support/python';

const SCRIPT = join(__dirname, 'python_client.py');
const REPLY = 'Hello from TypeScript!';

describe('a Python client (python3-websockets) against the relay', () => {
  let relay: TestRelay;
  let python: PythonRun | undefined;

  before(async () => {
    relay = await startTestRelay({ SHUTDOWN_TIMEOUT_MS: '1000' });
  });
  after(async () => {
    python?.kill();
    await relay?.stop();
  });

  it(`finds python3-websockets for ${PYTHON} (a missing one fails, never skips)`, () => {
    requirePythonModule('websockets', 'python3-websockets');
  });

  it("accepts Python's naive datetime.now().isoformat() timestamps", () => {
    const stamps = [
      pythonPrint('__import__("datetime").datetime.now().isoformat()'),
      pythonPrint('__import__("datetime").datetime(2025, 1, 2, 3, 4, 5).isoformat()'),
      pythonPrint('__import__("datetime").datetime(2025, 1, 2, 3, 4, 5, 123456).isoformat()'),
    ];
    assert.match(stamps[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/, 'naive: no offset');
    for (const timestamp of stamps) {
      const decoded = decodeClientFrame(JSON.stringify({ event_type: 'chat.message', payload: { content: 'hi' }, timestamp }));
      assert.ok(decoded.ok, `${timestamp} refused: ${decoded.ok ? '' : decoded.error.message}`);
    }
  });

  it('exchanges chat messages with a TypeScript client in the same session', async () => {
    requirePythonModule('websockets', 'python3-websockets');
    const ts = await relay.connect('ts-alice', { name: 'Alice (TS)' });
    python = runPython(
      SCRIPT,
      {
        RELAY_URL: relay.url,
        RELAY_TOKEN: relay.token({ user: 'py-bob', name: 'Bob (Python)' }),
        EXPECTED_REPLY: REPLY,
        CLIENT_TIMEOUT_S: '10',
      },
      15_000,
    );
    const exitedEarly = python.done.then((result) => {
      throw new Error(`${PYTHON} exited (${result.code ?? result.signal}) before saying hello:\n${result.stderr}`);
    });
    exitedEarly.catch(() => undefined); // only the race below cares

    // Python -> TypeScript: the example's "Hello, world!", attributed to the token's user.
    const hello = await Promise.race([ts.next('chat.message', (f) => f.user_id === 'py-bob', 10_000), exitedEarly]);
    assert.equal(hello.payload.content, 'Hello, world!');
    assert.equal(hello.payload.display_name, 'Bob (Python)');
    assert.equal(hello.session_id, 's1');

    // TypeScript -> Python.
    ts.send({ event_type: 'chat.message', payload: { content: REPLY, client_message_id: 'ts-1' }, timestamp: new Date().toISOString() });
    const result = await python.done;
    assert.equal(result.code, 0, `python exited with ${result.code ?? result.signal}:\n${result.stderr}\n${result.stdout}`);

    const lines = result.stdout.split('\n');
    const chats = lines
      .filter((l) => l.startsWith('Chat message: '))
      .map((l) => JSON.parse(l.slice('Chat message: '.length)) as Record<string, unknown>);
    assert.deepEqual(
      chats.map((c) => c.content),
      ['Hello, world!', REPLY],
      'python saw its own message echoed, then the reply',
    );
    assert.equal(chats[1]!.display_name, 'Alice (TS)');
    assert.equal(chats[1]!.client_message_id, 'ts-1');
    const received = lines.filter((l) => l.startsWith('Received: '));
    assert.ok(received[0]?.includes("'event_type': 'connect'"), `the first event is connect: ${received[0]}`);
    const replyLine = received.find((l) => l.includes(`'content': '${REPLY}'`));
    assert.ok(replyLine, 'the client\'s "Received:" line for the reply');
    assert.match(replyLine, /'event_type': 'chat\.message'/);
    assert.match(replyLine, /'user_id': 'ts-alice'/);
    assert.ok(!received.some((l) => l.includes("'event_type': 'error'")), 'the relay refused nothing Python sent');
    assert.match(result.stdout, /Done: the expected reply arrived/);
  });
});
