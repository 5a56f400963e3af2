/**
 * Payload examples per event and direction: ones the schema must accept (the README's examples
 * among them) and near misses it must refuse. Shared by the zod and the JSON Schema tests, so
 * both are held to the same cases.
 */
export interface Examples {
  valid: unknown[];
  invalid: unknown[];
}

const participant = { user_id: 'alice', display_name: 'Alice', role: 'editor', connection_id: 'relay-1.1' };
const now = '2026-11-26T03:34:21.123Z';
const stopped = {
  thread_id: 1,
  reason: 'breakpoint',
  description: 'Paused on breakpoint',
  location: { document: 'src/app.ts', line: 41, column: 4 },
  frames: [
    { name: 'main', document: 'src/app.ts', line: 41, column: 4 },
    { name: 'node:internal/main', line: 10, column: 0 },
  ],
  variables: [
    { name: 'i', value: '3', type: 'number' },
    { name: 'user', value: '{name: "Ada"}' },
  ],
};

export const payloadExamples: Record<string, Examples> = {
  'connect.server': {
    valid: [
      {
        connection_id: 'relay-1.1',
        relay_id: 'relay-1',
        server_time: now,
        heartbeat_interval_ms: 25000,
        session_id: 's1',
        user: participant,
        participants: [participant],
        limits: { max_frame_bytes: 65536, max_messages_per_second: 200 },
      },
    ],
    invalid: [{}, { connection_id: 'relay-1.1', relay_id: 'relay-1' }],
  },
  'disconnect.server': {
    valid: [{ reason: 'shutdown', message: 'the relay is shutting down', reconnect: true }],
    invalid: [
      { reason: 'bored', message: 'x', reconnect: true },
      { reason: 'shutdown', message: 'x' },
    ],
  },
  'error.server': {
    valid: [
      { code: 'BAD_JSON', message: 'The frame is not valid JSON text.' },
      { code: 'VALIDATION_FAILED', message: 'payload.content: expected string', path: 'payload.content', event_type: 'chat.message' },
      { code: 'HOST_NOT_CONNECTED', message: 'The host is not connected.', event_type: 'workspace.request', request_id: 'r-1' },
      { code: 'RATE_LIMITED', message: 'Too many messages.', event_type: 'chat.message', client_message_id: 'c-1' },
      { code: 'AI_NOT_CONFIGURED', message: 'no AI model is configured on this relay', event_type: 'ai.request', request_id: 'q-1' },
    ],
    invalid: [{ code: 'NOPE', message: 'x' }, { code: 'BAD_JSON' }],
  },
  'chat.message.client': {
    valid: [{ content: 'Hello, world!' }, { content: 'psst', to: 'bob', client_message_id: 'c-1' }, { content: '👋🏽 naïve ∑' }],
    invalid: [
      {},
      { content: '' },
      { content: 5 },
      { content: 'x'.repeat(10_001) },
      { content: 'hi', extra: 1 },
      { content: 'hi', to: '' },
      { text: 'hi' },
    ],
  },
  'chat.message.server': {
    valid: [{ content: 'Hello, world!', message_id: 'm1', display_name: 'Alice' }],
    invalid: [{ content: 'Hello, world!' }, { content: 'hi', message_id: '', display_name: 'Alice' }],
  },
  'chat.typing.client': {
    valid: [{ typing: true }, { typing: false }],
    invalid: [{}, { typing: 'yes' }, { typing: true, display_name: 'Mallory' }],
  },
  'chat.typing.server': {
    valid: [{ typing: true, display_name: 'Alice' }],
    invalid: [{ typing: true }, { typing: true, display_name: '' }],
  },
  'collaboration.edit.client': {
    valid: [
      { document: 'src/app.ts', rev: 0, client_id: 'c1', seq: 0, op: ['hello'] },
      { document: 'src/app.ts', rev: 12, client_id: 'c1', seq: 3, op: [5, { d: 'abc' }, 'xyz'] },
    ],
    invalid: [
      { document: 'src/app.ts', rev: -1, client_id: 'c1', seq: 0, op: [] },
      { document: 'src/app.ts', rev: 0, client_id: 'c1', seq: 0, op: [0] },
      { document: 'src/app.ts', rev: 0, client_id: 'c1', seq: 0, op: [1.5] },
      { document: 'src/app.ts', rev: 0, client_id: 'c1', seq: 0, op: [{ d: '' }] },
      { document: 'src/app.ts', rev: 0, client_id: 'c1', seq: 0, op: [{ i: 'x' }] },
      { document: '', rev: 0, client_id: 'c1', seq: 0, op: ['x'] },
      { rev: 0, client_id: 'c1', seq: 0, op: ['x'] },
    ],
  },
  'collaboration.open.client': {
    valid: [
      { document: 'src/app.ts' },
      { document: 'src/app.ts', text: '' },
      { document: 'a', text: 'line 1\nline 2 👋🏽\n' },
      { document: 'a', rev: 12, client_id: 'c1' },
      { document: 'a', create: false },
      { document: 'a', text: 'part', more: true },
    ],
    invalid: [
      {},
      { document: '' },
      { document: 'a', text: 5 },
      { document: 'a', rev: -1 },
      { document: 'a', client_id: '' },
      { document: 'a', seq: 0 },
    ],
  },
  'collaboration.close.client': {
    valid: [{ document: 'src/app.ts' }],
    invalid: [{}, { document: '' }, { document: 'a', rev: 1 }, { document: 7 }],
  },
  'collaboration.snapshot.server': {
    valid: [
      { document: 'src/app.ts', rev: 0, text: '' },
      { document: 'a', rev: 42, text: 'hello\n' },
      { document: 'a', rev: 42, text: 'x', last_seq: 3 },
    ],
    invalid: [
      { document: 'a', rev: -1, text: '' },
      { document: 'a', rev: 0 },
      { document: 'a', text: 'x' },
    ],
  },
  'collaboration.ack.server': {
    valid: [
      { document: 'src/app.ts', rev: 1, client_id: 'c1', seq: 0 },
      { document: 'a', rev: 99, client_id: 'vscode-1.2', seq: 7 },
    ],
    invalid: [
      { document: 'a', rev: 0, client_id: 'c1', seq: 0 },
      { document: 'a', rev: 1, client_id: '', seq: 0 },
      { document: 'a', rev: 1, client_id: 'c1' },
    ],
  },
  'collaboration.resync.server': {
    valid: [
      { document: 'src/app.ts', rev: 1200, text: 'hello', reason: 'history_trimmed' },
      { document: 'a', rev: 3, text: 'x', reason: 'diverged' },
    ],
    invalid: [
      { document: 'a', rev: 3, text: 'x' },
      { document: 'a', rev: 3, text: 'x', reason: 'bored' },
      { document: 'a', rev: -3, text: 'x', reason: 'history_trimmed' },
    ],
  },
  'collaboration.check.client': {
    valid: [
      { document: 'src/app.ts', rev: 12, length: 5, hash: '0123456789abcd' },
      { document: 'a', rev: 0, length: 0, hash: '00000000000000', epoch: 'e1', repairs: 1 },
    ],
    invalid: [
      { document: 'a', rev: 1, length: 5, hash: 'ABCDEF' },
      { document: 'a', rev: 1, length: -1, hash: '0123456789abcd' },
      { document: 'a', rev: 1, hash: '0123456789abcd' },
      { document: 'a', rev: 1, length: 5, hash: '0123456789abcd', repairs: 5000 },
    ],
  },
  'collaboration.cursor.client': {
    valid: [
      { document: 'src/app.ts', selections: [{ anchor: 3, head: 3 }] },
      {
        document: 'a',
        rev: 2,
        selections: [
          { anchor: 0, head: 9 },
          { anchor: 12, head: 10 },
        ],
      },
    ],
    invalid: [
      { document: 'a', selections: [] },
      { document: 'a', selections: [{ anchor: -1, head: 0 }] },
      { document: 'a', selections: [{ line: 1, character: 2 }] },
    ],
  },
  'system.notification.server': {
    valid: [
      { level: 'info', message: 'Relay restarting in 5 minutes' },
      { level: 'warning', message: 'x', code: 'MAINTENANCE' },
    ],
    invalid: [
      { level: 'debug', message: 'x' },
      { level: 'info', message: '' },
    ],
  },
  'system.ping.client': { valid: [{}, { nonce: 'n1' }], invalid: [{ nonce: 5 }, { nonce: 'n', x: 1 }] },
  'operator.subscribe.client': { valid: [{}], invalid: [{ every: 1 }, null, 'now'] },
  'operator.unsubscribe.client': { valid: [{}], invalid: [{ all: true }, []] },
  'system.pong.server': { valid: [{ server_time: now }, { nonce: 'n1', server_time: now }], invalid: [{}, { server_time: 'noon' }] },
  'session.joined.server': { valid: [participant], invalid: [{ ...participant, role: 'admin' }, { user_id: 'alice' }] },
  'session.left.server': { valid: [participant], invalid: [{ ...participant, connection_id: '' }] },
  'session.join_request.server': {
    valid: [
      { request_id: 'jr-Abc_12-x', user_id: 'guest-0a1b2c', display_name: 'Bob', role: 'editor', expires_at: '2026-11-26T10:02:00.000Z' },
    ],
    invalid: [
      { request_id: 'jr-1', user_id: 'guest-0a1b2c', display_name: 'Bob', role: 'host', expires_at: '2026-11-26T10:02:00.000Z' },
      { request_id: 'jr 1', user_id: 'guest-0a1b2c', display_name: 'Bob', role: 'viewer', expires_at: '2026-11-26T10:02:00.000Z' },
      { request_id: 'jr-1', user_id: 'guest-0a1b2c', display_name: 'Bob', role: 'viewer' },
    ],
  },
  'session.role_changed.server': {
    valid: [
      { user_id: 'guest-0a1b2c', role: 'viewer' },
      { user_id: 'guest-0a1b2c', role: 'editor', display_name: 'Bob' },
    ],
    invalid: [{ user_id: 'guest-0a1b2c', role: 'host' }, { role: 'viewer' }, { user_id: 'guest-0a1b2c', role: 'viewer', by: 'alice' }],
  },
  'session.focus.client': { valid: [{}], invalid: [{ user_id: 'alice' }, null] },
  'session.focus.server': {
    valid: [{ user_id: 'alice', display_name: 'Alice', connection_id: 'relay-1.1' }],
    invalid: [{ user_id: 'alice', display_name: 'Alice' }, {}],
  },
  'ai.request.client': {
    valid: [
      { request_id: 'q-1', prompt: 'What does this do?' },
      {
        request_id: 'q-2',
        prompt: 'Why does this throw?',
        context: { selection: 'const x = a.b;', file: 'src/app.ts', language: 'typescript', line_start: 3, line_end: 4 },
      },
      { request_id: 'q-3', prompt: 'Explain', context: { language: 'c++' } },
    ],
    invalid: [
      { request_id: 'q-1' },
      { request_id: 'q-1', prompt: '' },
      { request_id: 'q 1', prompt: 'hi' },
      { request_id: 'q-1', prompt: 'hi', temperature: 1 },
      { request_id: 'q-1', prompt: 'hi', context: { language: 'type script' } },
      { request_id: 'q-1', prompt: 'hi', context: { line_start: 0 } },
      { request_id: 'q-1', prompt: 'hi', context: { cursor: 1 } },
      { request_id: 'q-1', prompt: 'x'.repeat(32_001) },
    ],
  },
  'ai.request.server': {
    valid: [{ request_id: 'q-1', prompt: 'What does this do?', display_name: 'Alice', model: 'llama3.2' }],
    invalid: [{ request_id: 'q-1', prompt: 'What does this do?' }],
  },
  'ai.cancel.client': {
    valid: [{ request_id: 'q-1' }],
    invalid: [{}, { request_id: '' }, { request_id: 'q-1', reason: 'x' }],
  },
  'ai.response.server': {
    valid: [
      { request_id: 'r1', index: 0, delta: 'Hel', done: false },
      { request_id: 'r1', index: 3, delta: '', done: true, model: 'gpt-4o-mini' },
      { request_id: 'r1', index: 4, delta: '!', done: true, model: 'llama3.2', outcome: 'completed', text: 'Hello!' },
      { request_id: 'r1', index: 2, delta: '', done: true, outcome: 'cancelled', cancelled_by: 'alice', text: 'Hel' },
      {
        request_id: 'r1',
        index: 2,
        delta: '',
        done: true,
        outcome: 'failed',
        error: { code: 'AI_RATE_LIMITED', message: 'the AI model’s server is rate limiting this relay' },
        text: '',
      },
    ],
    invalid: [
      { request_id: 'r1', index: -1, delta: 'x', done: false },
      { request_id: 'r1', delta: 'x' },
      { request_id: 'r1', index: 1, delta: '', done: true, outcome: 'aborted' },
      { request_id: 'r1', index: 1, delta: '', done: true, outcome: 'failed', error: { code: 'NOPE', message: 'x' } },
    ],
  },
  'debugging.breakpoint.client': {
    valid: [
      { action: 'add', breakpoint: { id: 'bp1', document: 'src/app.ts', line: 41, enabled: true } },
      {
        action: 'update',
        breakpoint: {
          id: 'bp1',
          document: 'src/app.ts',
          line: 41,
          column: 4,
          enabled: false,
          condition: 'i > 3',
          hit_condition: '5',
          log_message: 'i={i}',
        },
      },
    ],
    invalid: [
      { action: 'toggle', breakpoint: { id: 'bp1', document: 'a', line: 1, enabled: true } },
      { action: 'add', breakpoint: { id: 'bp1', document: 'a', line: -1, enabled: true } },
      { action: 'add' },
    ],
  },
  'debugging.breakpoint.server': {
    valid: [{ action: 'remove', breakpoint: { id: 'bp1', document: 'src/app.ts', line: 41, enabled: true }, rev: 7 }],
    invalid: [
      { action: 'add', breakpoint: { id: 'bp1', document: 'a', line: 1, enabled: true } },
      { action: 'add', breakpoint: { id: 'bp1', document: 'a', line: 1, enabled: true }, rev: 0 },
    ],
  },
  'debugging.state.server': {
    valid: [
      { rev: 0, breakpoints: [], stopped: null },
      { rev: 12, breakpoints: [{ id: 'bp1', document: 'src/app.ts', line: 41, enabled: true }], stopped: { ...stopped, rev: 11 } },
    ],
    invalid: [
      { rev: 1, breakpoints: [] },
      { rev: 1, breakpoints: [], stopped: stopped },
      { rev: -1, breakpoints: [], stopped: null },
    ],
  },
  'debugging.stopped.client': {
    valid: [
      stopped,
      { thread_id: 0, reason: 'pause', location: null, frames: [], variables: [] },
      { ...stopped, reason: 'function_breakpoint', total_frames: 250, description: 'Paused on exception: TypeError 👀' },
    ],
    invalid: [
      { ...stopped, rev: 3 },
      { ...stopped, reason: 'function breakpoint' },
      { ...stopped, location: { document: 'src/app.ts', line: 1 } },
      { ...stopped, frames: Array.from({ length: 101 }, () => stopped.frames[0]) },
      { ...stopped, variables: Array.from({ length: 201 }, () => stopped.variables[0]) },
      { ...stopped, variables: [{ name: 'x', value: 'v'.repeat(2001) }] },
      { ...stopped, thread_id: -1 },
      { reason: 'step', location: null, frames: [], variables: [] },
    ],
  },
  'debugging.stopped.server': {
    valid: [{ ...stopped, rev: 3 }],
    invalid: [stopped, { ...stopped, rev: 0 }],
  },
  'debugging.continued.client': {
    valid: [{ reason: 'continued' }, { reason: 'ended', thread_id: 1 }],
    invalid: [{}, { reason: 'host_left' }, { reason: 'continued', rev: 2 }],
  },
  'debugging.continued.server': {
    valid: [
      { reason: 'continued', rev: 4 },
      { reason: 'host_left', rev: 9 },
    ],
    invalid: [{ reason: 'continued' }, { reason: 'gone', rev: 1 }],
  },
  'debugging.control.client': {
    valid: [
      { request_id: 'c-1', action: 'continue' },
      { request_id: 'c-2', action: 'step_over', thread_id: 3 },
    ],
    invalid: [
      { request_id: 'c-1', action: 'restart' },
      { action: 'pause' },
      { request_id: 'c-1', action: 'pause', requester: 'relay-1.2' },
    ],
  },
  'debugging.control.server': {
    valid: [{ request_id: 'c-1', action: 'step_in', requester: 'relay-1.2' }],
    invalid: [{ request_id: 'c-1', action: 'step_in' }],
  },
  'debugging.control_result.client': {
    valid: [
      { request_id: 'c-1', requester: 'relay-1.2', ok: true },
      { request_id: 'c-1', requester: 'relay-1.2', ok: false, message: 'the host does not let guests control the debugger' },
    ],
    invalid: [
      { request_id: 'c-1', ok: true },
      { request_id: 'c-1', requester: 'relay-1.2' },
    ],
  },
  'debugging.control_result.server': {
    valid: [{ request_id: 'c-1', requester: 'relay-1.2', ok: true }],
    invalid: [{ request_id: 'c-1', requester: 'relay-1.2', ok: 'yes' }],
  },
};

// The shared folder: guests' requests, the host's answers (both directions carry `requester`).
const workspaceRequests = [
  { request_id: 'r-1', op: 'stat', path: '' },
  { request_id: 'r-2', op: 'readDirectory', path: 'src' },
  { request_id: 'r-2', op: 'readDirectory', path: 'src', chunk: 1 },
  { request_id: 'r-3', op: 'readFile', path: 'src/app.ts' },
  { request_id: 'r-3', op: 'readFile', path: 'src/app.ts', chunk: 7 },
  { request_id: 'r-4', op: 'writeFile', path: 'notes/ü 👋.md', content: 'aGVsbG8=', chunk: 0, done: true, create: true, overwrite: false },
  { request_id: 'r-4', op: 'writeFile', path: 'empty', content: '', chunk: 0, done: true, create: true, overwrite: true },
  { request_id: 'r-5', op: 'createDirectory', path: 'a/b' },
  { request_id: 'r-6', op: 'delete', path: 'a', recursive: true },
  { request_id: 'r-7', op: 'rename', path: 'a.txt', to: 'b/a.txt', overwrite: false },
  { request_id: 'r-8', op: 'stat', path: '..hidden/.env' },
  { request_id: 'r-9', op: 'findFiles', path: '' },
  { request_id: 'r-9', op: 'findFiles', path: 'src', chunk: 2 },
  {
    request_id: 'r-10',
    op: 'search',
    path: '',
    query: { pattern: 'TODO\\(\\w+\\)', regex: true, case_sensitive: false, include: ['src/**/*.ts'], exclude: ['**/*.test.ts'] },
  },
  { request_id: 'r-10', op: 'search', path: '', query: { pattern: 'x', regex: false, case_sensitive: true }, chunk: 1 },
];
const badWorkspaceRequests = [
  {},
  { request_id: 'r-1', op: 'chmod', path: 'a' },
  { request_id: 'r-1', op: 'stat' },
  { request_id: 'r-1', op: 'stat', path: '/etc/passwd' },
  { request_id: 'r-1', op: 'stat', path: '../outside' },
  { request_id: 'r-1', op: 'stat', path: 'a/../../outside' },
  { request_id: 'r-1', op: 'stat', path: 'a/./b' },
  { request_id: 'r-1', op: 'stat', path: 'a//b' },
  { request_id: 'r-1', op: 'stat', path: 'a/' },
  { request_id: 'r-1', op: 'stat', path: 'a\\..\\..\\b' },
  { request_id: 'r-1', op: 'stat', path: 'a\u0000b' },
  { request_id: 'r-1', op: 'stat', path: 'x'.repeat(4097) },
  { request_id: '', op: 'stat', path: 'a' },
  { request_id: 'r-1', op: 'stat', path: 'a', recursive: true },
  { request_id: 'r-1', op: 'readFile', path: 'a', chunk: -1 },
  { request_id: 'r-1', op: 'writeFile', path: 'a', content: 'not base64!', chunk: 0, done: true, create: true, overwrite: true },
  { request_id: 'r-1', op: 'writeFile', path: 'a', content: 'aGVsbG8', chunk: 0, done: true, create: true, overwrite: true },
  { request_id: 'r-1', op: 'writeFile', path: 'a', content: 'aGVsbG8=', chunk: 0, create: true, overwrite: true },
  { request_id: 'r-1', op: 'delete', path: 'a' },
  { request_id: 'r-1', op: 'rename', path: 'a', to: '../b', overwrite: false },
  { request_id: 'r-1', op: 'findFiles', path: '../' },
  { request_id: 'r-1', op: 'search', path: '', query: { pattern: '', regex: false, case_sensitive: false } },
  { request_id: 'r-1', op: 'search', path: '', query: { pattern: 'x', regex: 'yes', case_sensitive: false } },
  { request_id: 'r-1', op: 'search', path: '', query: { pattern: 'x', regex: false, case_sensitive: false, include: Array(21).fill('a') } },
  { request_id: 'r-1', op: 'search', path: '', query: { pattern: 'x'.repeat(1001), regex: false, case_sensitive: false } },
];
const workspaceResponses = [
  {
    request_id: 'r-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'stat', type: 'directory', size: 0, ctime: 1, mtime: 2, name: 'my-project' },
  },
  {
    request_id: 'r-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'stat', type: 'file', symlink: true, size: 12, ctime: 0, mtime: 1764127000123.5, readonly: true },
  },
  {
    request_id: 'r-2',
    requester: 'relay-1.4',
    ok: true,
    result: {
      kind: 'directory',
      entries: [
        { name: 'a.ts', type: 'file' },
        { name: 'lib', type: 'directory', symlink: true },
      ],
      chunks: 1,
    },
  },
  {
    request_id: 'r-3',
    requester: 'relay-1.4',
    chunk: 2,
    ok: true,
    result: { kind: 'content', content: 'aGVsbG8=', size: 150000, chunks: 4 },
  },
  { request_id: 'r-4', requester: 'relay-1.4', ok: true, result: { kind: 'done' } },
  { request_id: 'r-5', requester: 'relay-1.4', ok: false, error: { code: 'FileNotFound', message: 'a/b: no such file or directory' } },
  { request_id: 'r-6', requester: 'relay-1.4', ok: false, error: { code: 'NoPermissions', message: 'not shared' } },
  {
    request_id: 'r-9',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'files', paths: ['a.ts', 'src/b.ts'], chunks: 2, incomplete: false },
  },
  {
    request_id: 'r-10',
    requester: 'relay-1.4',
    ok: true,
    result: {
      kind: 'matches',
      matches: [{ path: 'src/a.ts', line: 3, character: 4, length: 4, preview: '    TODO(ana): tidy' }],
      chunks: 1,
      incomplete: true,
    },
  },
];
const badWorkspaceResponses = [
  {},
  { request_id: 'r-1', ok: true, result: { kind: 'done' } },
  { request_id: 'r-1', requester: 'relay-1.4', ok: true },
  { request_id: 'r-1', requester: 'relay-1.4', ok: true, error: { code: 'FileNotFound', message: 'x' } },
  { request_id: 'r-1', requester: 'relay-1.4', ok: false, error: { code: 'ENOENT', message: 'x' } },
  { request_id: 'r-1', requester: 'relay-1.4', ok: true, result: { kind: 'stat', type: 'socket', size: 0, ctime: 0, mtime: 0 } },
  {
    request_id: 'r-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'directory', entries: [{ name: '..', type: 'directory' }], chunks: 1 },
  },
  {
    request_id: 'r-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'directory', entries: [{ name: 'a/b', type: 'file' }], chunks: 1 },
  },
  { request_id: 'r-1', requester: 'relay-1.4', ok: true, result: { kind: 'content', content: '%%%', size: 3, chunks: 1 } },
  { request_id: 'r-1', requester: 'relay-1.4', ok: true, result: { kind: 'content', content: '', size: 0, chunks: 0 } },
  { request_id: 'r-1', requester: 'relay-1.4', ok: true, result: { kind: 'done', extra: 1 } },
  {
    request_id: 'r-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'files', paths: ['../etc/passwd'], chunks: 1, incomplete: false },
  },
  {
    request_id: 'r-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'matches', matches: [{ path: 'a', line: -1, character: 0, length: 1, preview: '' }], chunks: 1, incomplete: false },
  },
];
const workspaceChanges = [
  { changes: [{ type: 'created', path: 'src/new.ts' }] },
  {
    changes: [
      { type: 'changed', path: 'a.txt' },
      { type: 'deleted', path: 'old' },
      { type: 'changed', path: '' },
    ],
  },
];
const badWorkspaceChanges = [
  { changes: [] },
  { changes: [{ type: 'renamed', path: 'a' }] },
  { changes: [{ type: 'created', path: '../a' }] },
  {},
];

payloadExamples['workspace.request.client'] = {
  valid: workspaceRequests,
  invalid: [...badWorkspaceRequests, { ...workspaceRequests[0], requester: 'relay-1.4' }],
};
payloadExamples['workspace.request.server'] = {
  valid: workspaceRequests.map((request) => ({ ...request, requester: 'relay-1.4' })),
  invalid: [...badWorkspaceRequests.map((request) => ({ ...request, requester: 'relay-1.4' })), workspaceRequests[0]],
};
payloadExamples['workspace.response.client'] = { valid: workspaceResponses, invalid: badWorkspaceResponses };
payloadExamples['workspace.response.server'] = { valid: workspaceResponses, invalid: badWorkspaceResponses };
payloadExamples['workspace.changed.client'] = { valid: workspaceChanges, invalid: badWorkspaceChanges };
payloadExamples['workspace.changed.server'] = { valid: workspaceChanges, invalid: badWorkspaceChanges };

// The host's language features: guests' questions, the host's answers, its diagnostics.
const position = { line: 3, character: 14 };
const range = { start: { line: 3, character: 10 }, end: { line: 3, character: 17 } };
const languageRequests = [
  { request_id: 'l-1', op: 'hover', path: 'src/app.ts', position },
  { request_id: 'l-2', op: 'completion', path: 'src/app.ts', position, trigger_character: '.' },
  { request_id: 'l-3', op: 'signatureHelp', path: 'src/app.ts', position },
  { request_id: 'l-4', op: 'definition', path: 'src/app.ts', position },
  { request_id: 'l-5', op: 'references', path: 'src/app.ts', position },
  { request_id: 'l-6', op: 'implementation', path: 'src/app.ts', position },
  { request_id: 'l-7', op: 'documentSymbols', path: 'src/app.ts' },
  { request_id: 'l-8', op: 'diagnostics' },
  { request_id: 'l-1', op: 'cancel' },
];
const badLanguageRequests = [
  {},
  { request_id: 'l-1', op: 'format', path: 'a.ts', position },
  { request_id: 'l-1', op: 'hover', path: '../outside.ts', position },
  { request_id: 'l-1', op: 'hover', path: '/etc/passwd', position },
  { request_id: 'l-1', op: 'hover', path: 'a.ts' },
  { request_id: 'l-1', op: 'hover', path: 'a.ts', position: { line: -1, character: 0 } },
  { request_id: 'l-1', op: 'hover', path: 'a.ts', position: { line: 0.5, character: 0 } },
  { request_id: 'l-1', op: 'documentSymbols', path: 'a.ts', position },
  { request_id: 'l-1', op: 'completion', path: 'a.ts', position, trigger_character: 'x'.repeat(9) },
  { request_id: 'l-1', op: 'cancel', path: 'a.ts' },
  { op: 'diagnostics' },
];
const languageResponses = [
  { request_id: 'l-1', requester: 'relay-1.4', ok: true, result: { kind: 'hover', contents: ['```ts\nconst x: number\n```'], range } },
  {
    request_id: 'l-2',
    requester: 'relay-1.4',
    ok: true,
    result: {
      kind: 'completion',
      items: [{ label: 'toFixed', item_kind: 1, detail: '(method)', insert_text: 'toFixed($1)', snippet: true, sort_text: '0', range }],
      incomplete: false,
    },
  },
  {
    request_id: 'l-3',
    requester: 'relay-1.4',
    ok: true,
    result: {
      kind: 'signatureHelp',
      signatures: [
        { label: 'add(a: number, b: number)', parameters: [{ label: { start: 4, end: 13 } }, { label: 'b: number' }], active_parameter: 1 },
      ],
      active_signature: 0,
      active_parameter: 1,
    },
  },
  {
    request_id: 'l-4',
    requester: 'relay-1.4',
    ok: true,
    result: {
      kind: 'locations',
      locations: [{ path: 'src/util.ts', range, selection_range: range, origin_range: range }],
      not_shared: 1,
      incomplete: false,
    },
  },
  {
    request_id: 'l-7',
    requester: 'relay-1.4',
    ok: true,
    result: {
      kind: 'symbols',
      symbols: [
        { name: 'Greeter', symbol_kind: 4, range, selection_range: range },
        { name: 'greet', detail: '()', symbol_kind: 5, range, selection_range: range, parent: 0 },
      ],
      incomplete: false,
    },
  },
  {
    request_id: 'l-8',
    requester: 'relay-1.4',
    ok: true,
    result: {
      kind: 'diagnostics',
      files: [{ path: 'src/app.ts', diagnostics: [{ range, message: 'Type mismatch', severity: 0, source: 'ts', code: 2322 }] }],
      incomplete: false,
    },
  },
  { request_id: 'l-9', requester: 'relay-1.4', ok: true, result: { kind: 'none' } },
  { request_id: 'l-9', requester: 'relay-1.4', ok: false, error: { code: 'NotShared', message: '.env: not shared' } },
];
const badLanguageResponses = [
  {},
  { request_id: 'l-1', ok: true, result: { kind: 'none' } },
  { request_id: 'l-1', requester: 'relay-1.4', ok: true, result: { kind: 'hover', contents: ['x'.repeat(16_385)] } },
  {
    request_id: 'l-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'locations', locations: [{ path: '../secret', range }], not_shared: 0, incomplete: false },
  },
  {
    request_id: 'l-1',
    requester: 'relay-1.4',
    ok: true,
    result: { kind: 'completion', items: Array.from({ length: 201 }, (_, i) => ({ label: `x${i}` })), incomplete: true },
  },
  { request_id: 'l-1', requester: 'relay-1.4', ok: false, error: { code: 'ENOENT', message: 'x' } },
];
const languageDiagnostics = [
  { files: [{ path: 'src/app.ts', diagnostics: [{ range, message: 'Unused', severity: 3, code: 'no-unused' }] }] },
  { files: [{ path: 'src/app.ts', diagnostics: [] }] },
];
const badLanguageDiagnostics = [
  { files: [] },
  { files: [{ path: '../a', diagnostics: [] }] },
  { files: [{ path: 'a', diagnostics: [{ range, message: 'x', severity: 4 }] }] },
  {},
];
payloadExamples['language.request.client'] = {
  valid: languageRequests,
  invalid: [...badLanguageRequests, { ...languageRequests[0], requester: 'relay-1.4' }],
};
payloadExamples['language.request.server'] = {
  valid: languageRequests.map((request) => ({ ...request, requester: 'relay-1.4' })),
  invalid: [...badLanguageRequests.map((request) => ({ ...request, requester: 'relay-1.4' })), languageRequests[0]],
};
payloadExamples['language.response.client'] = { valid: languageResponses, invalid: badLanguageResponses };
payloadExamples['language.response.server'] = { valid: languageResponses, invalid: badLanguageResponses };
payloadExamples['language.diagnostics.client'] = { valid: languageDiagnostics, invalid: badLanguageDiagnostics };
payloadExamples['language.diagnostics.server'] = { valid: languageDiagnostics, invalid: badLanguageDiagnostics };

// The host's shared terminals: its list, output, guests' requests and input, scrollback, closes.
const terminalLists = [
  { terminals: [] },
  { terminals: [{ terminal_id: 't-1', name: 'bash', guests_can_type: false }] },
  { terminals: [{ terminal_id: 't-1', name: 'bash', guests_can_type: true }], requester: 'relay-1.4' },
];
const badTerminalLists = [
  {},
  { terminals: [{ terminal_id: 't 1', name: 'bash', guests_can_type: false }] },
  { terminals: [{ terminal_id: 't-1', name: '', guests_can_type: false }] },
  { terminals: [{ terminal_id: 't-1', name: 'bash' }] },
  { terminals: Array.from({ length: 11 }, (_, i) => ({ terminal_id: `t-${i}`, name: 'sh', guests_can_type: false })) },
];
const terminalOutputs = [
  { terminal_id: 't-1', seq: 1, data: '$ ' },
  { terminal_id: 't-1', seq: 42, data: '\u001b[32mtandem-42\u001b[0m\r\n' },
];
const badTerminalOutputs = [
  { terminal_id: 't-1', seq: 0, data: 'x' },
  { terminal_id: 't-1', seq: 1, data: '' },
  { terminal_id: 't-1', seq: 1, data: 'x'.repeat(16_385) },
  { terminal_id: 't-1', seq: 1.5, data: 'x' },
  { terminal_id: 't-1', data: 'x' },
];
const terminalRequests = [
  { request_id: 'r-1' },
  { request_id: 'r-2', terminal_id: 't-1' },
  { request_id: 'r-3', terminal_id: 't-1', since_seq: 12 },
];
const badTerminalRequests = [{}, { request_id: 'r 1' }, { request_id: 'r-1', terminal_id: '../t' }, { request_id: 'r-1', since_seq: -1 }];
const terminalScrollbacks = [
  { request_id: 'r-2', requester: 'relay-1.4', terminal_id: 't-1', seq: 12, data: 'hello\r\n', gap: false, done: false },
  { request_id: 'r-2', requester: 'relay-1.4', terminal_id: 't-1', seq: 12, data: '', gap: true, done: true },
];
const badTerminalScrollbacks = [
  { request_id: 'r-2', terminal_id: 't-1', seq: 12, data: '', gap: false, done: true },
  { request_id: 'r-2', requester: 'relay-1.4', terminal_id: 't-1', seq: 12, data: '', done: true },
  { request_id: 'r-2', requester: 'relay-1.4', terminal_id: 't-1', seq: 12, data: 'x'.repeat(16_385), gap: false, done: true },
];
const terminalInputs = [
  { terminal_id: 't-1', data: 'ls\r' },
  { terminal_id: 't-1', data: '\u0003' },
];
const badTerminalInputs = [
  { terminal_id: 't-1', data: '' },
  { terminal_id: 't-1', data: 'x'.repeat(4097) },
  { data: 'ls\r' },
  { terminal_id: 't-1', data: 'ls', read_only: false },
];
const terminalCloses = [
  { terminal_id: 't-1', reason: 'stopped' },
  { terminal_id: 't-1', reason: 'exited', exit_code: 0 },
];
const badTerminalCloses = [
  { terminal_id: 't-1' },
  { terminal_id: 't-1', reason: 'bored' },
  { terminal_id: 't-1', reason: 'exited', exit_code: 0.5 },
];
payloadExamples['terminal.shared.client'] = { valid: terminalLists, invalid: badTerminalLists };
payloadExamples['terminal.shared.server'] = { valid: terminalLists, invalid: badTerminalLists };
payloadExamples['terminal.output.client'] = { valid: terminalOutputs, invalid: badTerminalOutputs };
payloadExamples['terminal.output.server'] = { valid: terminalOutputs, invalid: badTerminalOutputs };
payloadExamples['terminal.request.client'] = {
  valid: terminalRequests,
  invalid: [...badTerminalRequests, { ...terminalRequests[0], requester: 'relay-1.4' }],
};
payloadExamples['terminal.request.server'] = {
  valid: terminalRequests.map((request) => ({ ...request, requester: 'relay-1.4' })),
  invalid: [...badTerminalRequests.map((request) => ({ ...request, requester: 'relay-1.4' })), terminalRequests[0]],
};
payloadExamples['terminal.scrollback.client'] = { valid: terminalScrollbacks, invalid: badTerminalScrollbacks };
payloadExamples['terminal.scrollback.server'] = { valid: terminalScrollbacks, invalid: badTerminalScrollbacks };
payloadExamples['terminal.input.client'] = {
  valid: terminalInputs,
  invalid: [...badTerminalInputs, { ...terminalInputs[0], sender: 'relay-1.4' }],
};
payloadExamples['terminal.input.server'] = {
  valid: terminalInputs.map((input) => ({ ...input, sender: 'relay-1.4' })),
  invalid: [...badTerminalInputs.map((input) => ({ ...input, sender: 'relay-1.4' })), terminalInputs[0]],
};
payloadExamples['terminal.closed.client'] = { valid: terminalCloses, invalid: badTerminalCloses };
payloadExamples['terminal.closed.server'] = { valid: terminalCloses, invalid: badTerminalCloses };

/** Whole frames as clients send them; the README's JavaScript and Python examples first. */
export const clientFrameExamples = {
  valid: [
    { event_type: 'chat.message', payload: { content: 'Hello, world!' }, timestamp: new Date().toISOString() },
    // Python's datetime.now().isoformat(): microseconds, no offset.
    { event_type: 'chat.message', payload: { content: 'Hello, world!' }, timestamp: '2026-11-26T03:34:21.123456' },
    {
      event_type: 'collaboration.cursor',
      payload: { document: 'a.ts', selections: [{ anchor: 1, head: 1 }] },
      session_id: 's1',
      user_id: 'alice',
    },
    { event_type: 'system.ping', payload: {} },
  ],
  invalid: [
    { payload: { content: 'x' } },
    { event_type: 'chat.message', payload: { content: 'x' }, timestamp: 'yesterday' },
    { event_type: 'chat.message', payload: { content: 'x' }, extra: true },
    { event_type: 'chat.message', payload: { content: 'x' }, session_id: '' },
    { event_type: '', payload: {} },
  ],
};

const percentiles = { p50: 12, p95: 40.5, p99: null };
const relayWindow = {
  samples: 12,
  connections: 3,
  sessions: 1,
  documents: 2,
  messages_in_per_s: 4.5,
  messages_out_per_s: 9,
  messages_in: { 'chat.message': 10, 'collaboration.edit': 260 },
  messages_out: { 'chat.message': 30, 'collaboration.edit': 510 },
  errors: { RATE_LIMITED: 2 },
  errors_per_s: 0.03,
  error_ratio: 0.0074,
  event_loop_lag_ms: percentiles,
  redis_latency_ms: { p50: null, p95: null, p99: null },
  latency_ms: { edit_ack: { p50: 2.5, p95: 6, p99: 9.8 } },
  memory_rss_bytes: 81_000_000,
  heap_used_bytes: 30_000_000,
};
const aggregates = {
  generated_at: now,
  window_s: 60,
  relay_id: 'relay-1',
  cluster: { relays: 1, ...relayWindow },
  relays: [{ relay_id: 'relay-1', last_sample_at: now, uptime_s: 120, cpu_percent: 3.5, sample_interval_ms: 5000, ...relayWindow }],
  models: [
    {
      model: 'llama3.2',
      answers: 4,
      outcomes: { completed: 3, failed: 1 },
      error_ratio: 0.25,
      total_ms: percentiles,
      time_to_first_token_ms: percentiles,
      tokens_per_second: percentiles,
      tokens_in: 400,
      tokens_out: 1200,
    },
  ],
  feedback: { count: 3, rated: 2, average_rating: 4.5, up: 1, down: 0, with_comment: 1, by_subject: { ai_answer: 2, product: 1 } },
};
payloadExamples['operator.metrics.server'] = {
  valid: [aggregates, { ...aggregates, relays: [], models: [] }],
  invalid: [
    {},
    { ...aggregates, window_s: 0 },
    { ...aggregates, cluster: { ...aggregates.cluster, connections: -1 } },
    { ...aggregates, extra: 1 },
  ],
};

// Shared servers (port forwarding): the host's list, a guest's streams, credit.
const servers = [{ share_id: 'web-1', name: 'web', port: 3000 }];
payloadExamples['tunnel.shared.client'] = {
  valid: [{ servers }, { servers: [] }],
  invalid: [
    { servers: [{ share_id: 'web-1', name: 'web', port: 0 }] },
    { servers: [{ share_id: 'web-1', name: 'web', port: 65536 }] },
    { servers: [{ share_id: '../x', name: 'web', port: 3000 }] },
    { servers: [{ share_id: 'web-1', name: '', port: 3000 }] },
    { servers: [{ ...servers[0], host: '10.0.0.1' }] },
    { servers: Array.from({ length: 33 }, (_, i) => ({ share_id: `s${i}`, name: 'x', port: 3000 + i })) },
  ],
};
payloadExamples['tunnel.shared.server'] = payloadExamples['tunnel.shared.client'];
payloadExamples['tunnel.open.client'] = {
  valid: [{ stream_id: 'st-1', share_id: 'web-1' }],
  invalid: [
    { stream_id: 'st-1', share_id: 'web-1', requester: 'relay-1.4' },
    { stream_id: 'st-1', share_id: 'web-1', port: 22 },
    { stream_id: 'st 1', share_id: 'web-1' },
    { stream_id: 'st-1' },
  ],
};
payloadExamples['tunnel.open.server'] = {
  valid: [{ stream_id: 'st-1', share_id: 'web-1', requester: 'relay-1.4' }],
  invalid: [{ stream_id: 'st-1', share_id: 'web-1' }],
};
payloadExamples['tunnel.opened.client'] = {
  valid: [{ stream_id: 'st-1', requester: 'relay-1.4' }],
  invalid: [{ stream_id: 'st-1' }, { stream_id: '', requester: 'relay-1.4' }],
};
payloadExamples['tunnel.opened.server'] = payloadExamples['tunnel.opened.client'];
const chunk = Buffer.from('GET / HTTP/1.1\r\n\r\n').toString('base64');
payloadExamples['tunnel.data.client'] = {
  valid: [
    { stream_id: 'st-1', data: chunk },
    { stream_id: 'st-1', data: chunk, requester: 'relay-1.4' },
  ],
  invalid: [
    { stream_id: 'st-1', data: '' },
    { stream_id: 'st-1', data: 'not base64!' },
    { stream_id: 'st-1', data: 'A'.repeat(43_696) },
    { stream_id: 'st-1' },
  ],
};
payloadExamples['tunnel.data.server'] = {
  valid: [{ stream_id: 'st-1', data: 'A'.repeat(43_692), requester: 'relay-1.4' }],
  invalid: [{ stream_id: 'st-1', data: chunk }],
};
payloadExamples['tunnel.ack.client'] = {
  valid: [
    { stream_id: 'st-1', bytes: 32768 },
    { stream_id: 'st-1', bytes: 1, requester: 'relay-1.4' },
  ],
  invalid: [
    { stream_id: 'st-1', bytes: 0 },
    { stream_id: 'st-1', bytes: 262_145 },
    { stream_id: 'st-1', bytes: 1.5 },
  ],
};
payloadExamples['tunnel.ack.server'] = {
  valid: [{ stream_id: 'st-1', bytes: 32768, requester: 'relay-1.4' }],
  invalid: [{ stream_id: 'st-1', bytes: 32768 }],
};
payloadExamples['tunnel.close.client'] = {
  valid: [
    { stream_id: 'st-1', reason: 'closed' },
    { stream_id: 'st-1', reason: 'refused', message: 'ECONNREFUSED', requester: 'relay-1.4' },
  ],
  invalid: [{ stream_id: 'st-1' }, { stream_id: 'st-1', reason: 'bye' }],
};
payloadExamples['tunnel.close.server'] = {
  valid: [{ stream_id: 'st-1', reason: 'unshared', requester: 'relay-1.4' }],
  invalid: [{ stream_id: 'st-1', reason: 'closed' }],
};
