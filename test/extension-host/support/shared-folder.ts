/**
 * For the shared-folder suites: a host folder on disk (temp dir), the host's file service on a
 * plain RelayClient with a host token, and guests as plain RelayClients.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient } from '../../../protocol';
import { ChangeFeed } from '../../../extension/workspace/change-feed';
import { DEFAULT_EXCLUDE, DEFAULT_READ_ONLY } from '../../../extension/workspace/default-rules';
import type { ExclusionRules } from '../../../extension/workspace/exclusions';
import { HostFileService } from '../../../extension/workspace/host-files';
import { HostFolder } from '../../../extension/workspace/host-folder';

const transport = createNodeWsTransport(WebSocket);

/** The extension's defaults (package.json). */
export const DEFAULT_RULES: ExclusionRules = { globs: DEFAULT_EXCLUDE, respectGitignore: true, readOnly: DEFAULT_READ_ONLY };

import { eventually } from './eventually';
import assert from 'node:assert/strict';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import { TEST_SECRET, type TestRelay } from '../../support/relay-fixture';

export { eventually };

export interface CreatedSession {
  session_id: string;
  host: { token: string };
  invites: Record<'editor' | 'viewer', { link: string }>;
}

/** A session made over REST as Start Session does, for a host played by the suite (its token) and this window as a guest (the invites). */
export async function createSession(relay: TestRelay): Promise<CreatedSession> {
  const response = await fetch(`${relay.httpUrl}/api/sessions`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${mintPersonalToken(TEST_SECRET, { user: 'hana', name: 'Hana', ttl: '1h' })}`,
    },
    body: JSON.stringify({ name: 'pairing' }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as CreatedSession;
}

export async function connectClient(url: string, token: string): Promise<RelayClient> {
  const client = new RelayClient({ url, token, transport });
  client.connect();
  await eventually(
    () => client.state === 'open',
    () => `a client to connect (state ${client.state})`,
  );
  return client;
}

export type Tree = Record<string, string | Uint8Array | { symlink: string }>;

/** A temp dir with these files (paths with `/`), folders made as needed. */
export function makeTree(tree: Tree, prefix = 'tandem-shared-'): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const [path, content] of Object.entries(tree)) {
    const target = join(root, ...path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    if (typeof content === 'object' && 'symlink' in content) symlinkSync(content.symlink, target);
    else writeFileSync(target, content);
  }
  return root;
}

/** Removes a tree when the extension host exits: its file watcher is still running (see TestHost). */
export function removeTreeOnExit(root: string | undefined): void {
  if (root) process.once('exit', () => rmSync(root, { recursive: true, force: true }));
}

/** The extension's host side on `root`, answering through `client`: file service and change feed. */
export class TestHost {
  readonly folder: HostFolder;
  readonly service: HostFileService;
  readonly feed: ChangeFeed;

  constructor(
    readonly root: string,
    readonly client: RelayClient,
    rules: ExclusionRules = DEFAULT_RULES,
    roleOf?: (connectionId: string) => 'host' | 'editor' | 'viewer' | undefined,
  ) {
    this.folder = new HostFolder(vscode.Uri.file(root), rules);
    this.service = new HostFileService({ folder: this.folder, client, ...(roleOf && { roleOf }) });
    this.feed = new ChangeFeed(
      this.folder,
      (payload) => void client.send('workspace.changed', payload),
      () => client.connection?.limits.max_frame_bytes ?? 65_536,
    );
  }

  /**
   * The change feed's watcher is left running (it sends nothing once the client is closed):
   * stopping a file watcher on a folder outside the workspace whose subfolders were deleted fails
   * in VS Code's watcher (@parcel/watcher: "Unable to remove watcher: Invalid argument"), and
   * watchers started after that got no events at all (code-server 4.100.3). A host's real shared
   * folder is a workspace folder, which VS Code watches anyway.
   */
  dispose(): void {
    this.service.dispose();
    this.client.dispose();
  }
}
