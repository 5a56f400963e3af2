/**
 * Sharing the host's folder, wired to the session: as host, the file service and the change feed
 * on the first workspace folder; as guest, the `tandem:` file system (read-only for viewers), the
 * folder in the Explorer, and resuming the session after VS Code restarts the extensions.
 */
import * as vscode from 'vscode';
import type { RelayClient } from '../../protocol/client';
import { settings } from '../config';
import type { Log } from '../log';
import type { SessionController, SessionInfo } from '../session/session-controller';
import { ChangeFeed } from './change-feed';
import type { ExclusionRules } from './exclusions';
import { recoverFolderlessWorkspace } from './folderless-workspace';
import { GuestResume } from './guest-resume';
import { HostFileService, type ServedRequest } from './host-files';
import { HostFolder } from './host-folder';
import { SHARED_SCHEME, SharedFileSystem } from './shared-fs';
import { removeSharedFolder, sharedFoldersShown, showSharedFolder } from './shared-folder';
import { relativeWirePath } from './wire-path';
import { WorkspaceClient } from './workspace-client';

/** How long the file system waits for a session being resumed before answering "unavailable". */
const RESUME_WAIT_MS = 15_000;

interface HostShare {
  client: RelayClient;
  folder: HostFolder | undefined;
  dispose(): void;
}

interface GuestShare {
  client: RelayClient;
  sessionId: string;
  requests: WorkspaceClient;
  /** The folder was offered (or added) once for this connection. */
  placed: boolean;
  dispose(): void;
}

/** Called once by `activate`. */
export function registerWorkspaceSharing(context: vscode.ExtensionContext, session: SessionController, log: Log): WorkspaceSharing {
  return new WorkspaceSharing(context, session, log);
}

export class WorkspaceSharing implements vscode.Disposable {
  private host: HostShare | undefined;
  private guest: GuestShare | undefined;
  private provider: { readonly fs: SharedFileSystem; registration: vscode.Disposable } | undefined;
  private resuming: string | undefined;
  private disposed = false;
  private readonly resume: GuestResume;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly guestChanged = new vscode.EventEmitter<void>();
  private readonly served = new vscode.EventEmitter<ServedRequest>();
  /** Host: a guest's request was served (a file read, written, renamed...): for editing features to follow. */
  readonly onDidServe = this.served.event;
  private readonly boundFileChanged = new vscode.EventEmitter<{ fs: SharedFileSystem; path: string }>();
  /** Guest: a file bound to a shared document changed on the host's disk (someone saved it). */
  readonly onDidChangeBoundFile = this.boundFileChanged.event;
  private readonly guestRead = new vscode.EventEmitter<string>();
  /** Host: a guest read this file (wire path): it is opening it. */
  readonly onDidGuestRead = this.guestRead.event;
  private readonly rulesChanged = new vscode.EventEmitter<void>();
  /** Host: the sharing settings changed; which files are shared as documents may have too. */
  readonly onDidChangeRules = this.rulesChanged.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly session: SessionController,
    private readonly log: Log,
  ) {
    this.resume = new GuestResume(context);
    this.subscriptions.push(
      this.guestChanged,
      this.boundFileChanged,
      this.served,
      this.guestRead,
      this.rulesChanged,
      this.served.event((request) => {
        if (request.op === 'readFile') this.guestRead.fire(request.path);
      }),
      session.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!['tandem.exclude', 'tandem.respectGitignore', 'tandem.readOnlyForGuests'].some((key) => event.affectsConfiguration(key)))
          return;
        this.host?.folder?.setRules(exclusionRules());
        this.rulesChanged.fire();
      }),
    );
    this.resumeShownFolder();
    this.update();
  }

  /** Host: the folder guests see, if a session is being hosted. */
  get hostFolder(): vscode.Uri | undefined {
    return this.host?.folder?.root;
  }

  /**
   * The wire path (document id) of a file this window shares or sees shared, or undefined when it
   * is not part of the session: outside the folder, excluded, or another session's.
   *
   * The host never shares a file that is read-only for guests as a document: a guest's edit of
   * it then has no way into the host's editor, nor through a save onto its disk, whatever a relay
   * does (the relay lets only the host create documents, so none exists for it there either).
   * Guests still read such a file through the shared folder, and see it change when it is saved.
   */
  async documentIdOf(uri: vscode.Uri): Promise<string | undefined> {
    const info = this.session.info;
    if (!info || !this.session.isActive) return undefined;
    if (info.role !== 'host') {
      if (uri.scheme !== SHARED_SCHEME || uri.authority !== info.sessionId) return undefined;
      return relativeWirePath('/', uri.path) || undefined;
    }
    const folder = this.host?.folder;
    if (!folder || uri.scheme !== folder.root.scheme || uri.authority !== folder.root.authority) return undefined;
    const path = relativeWirePath(folder.root.path, uri.path);
    if (!path || folder.isReadOnly(path) || (await folder.isExcluded(path, false)) || !(await folder.staysInside(path))) return undefined;
    return path;
  }

  /** Host: the shared folder with its rules, if a session is being hosted with a folder open. */
  get hostSharedFolder(): HostFolder | undefined {
    return this.host?.folder;
  }

  /** Guest: the requests to the host's shared folder, if this window is a guest of a session. */
  get guestRequests(): WorkspaceClient | undefined {
    return this.guest?.requests;
  }

  /** Host: where a wire path lives in the shared folder. */
  uriOf(documentId: string): vscode.Uri | undefined {
    try {
      return this.host?.folder?.uriOf(documentId, 'read');
    } catch {
      return undefined;
    }
  }

  /**
   * A window that shows a shared folder was (re)started: its file system must exist before
   * `activate` returns (VS Code asks for it right after), and the session it belongs to is joined
   * again with the record kept for it. The file system is registered at once with the role of
   * the quick copy, read-only when there is none; joining registers it again with the role the
   * relay gives.
   */
  private resumeShownFolder(): void {
    const sessionId = sharedFoldersShown()[0];
    // Perhaps a window that came back from that restart without its folders: it reloads itself.
    recoverFolderlessWorkspace(this.context, this.log).then(
      (outcome) => {
        if (outcome === 'has-folders' && !sessionId && !this.disposed && sharedFoldersShown().length > 0) this.resumeShownFolder();
      },
      (error: unknown) => this.log.error('could not check this window’s workspace', error),
    );
    if (!sessionId) return;
    this.registerProvider(sessionId, this.resume.kept(sessionId)?.info.role !== 'editor');
    this.resuming = sessionId;
    void this.resume
      .session(sessionId)
      .then((info) => {
        if (this.disposed) return;
        if (!info) {
          this.log.info(`this window shows the folder of session ${sessionId}, which it keeps nothing of: asking to remove it`);
          void removeSharedFolder(sessionId, 'that Tandem session is over');
          return;
        }
        if (!this.session.isActive) this.session.resume(info);
      })
      .catch((error: unknown) => this.log.error(`could not resume session ${sessionId}`, error))
      .finally(() => {
        this.resuming = undefined;
        this.guestChanged.fire();
      });
  }

  private update(): void {
    if (this.disposed) return;
    const { client, info, isActive } = this.session;
    if (isActive && client && info?.role === 'host') {
      if (this.host?.client !== client) {
        this.host?.dispose();
        this.host = this.startHost(client);
      }
    } else if (this.host) {
      this.host.dispose();
      this.host = undefined;
    }

    if (isActive && client && info && info.role !== 'host') {
      if (this.guest?.client !== client) {
        this.guest?.dispose();
        this.guest = this.startGuest(client, info);
        this.guestChanged.fire();
      }
      // The host made this guest a viewer, or an editor again: the folder and its editors follow.
      this.registerProvider(info.sessionId, info.role === 'viewer');
      if (this.session.state === 'live' && !this.guest.placed) {
        this.guest.placed = true;
        void this.place(this.guest, info);
      }
    } else if (this.guest) {
      const ended = this.guest;
      this.guest = undefined;
      ended.dispose();
      this.guestChanged.fire();
      void this.endGuest(ended.sessionId, this.session.endReason ?? 'the session ended');
    }
  }

  private startHost(client: RelayClient): HostShare {
    // The first folder, unless it is itself someone else's shared folder.
    const root = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme !== SHARED_SCHEME)?.uri;
    const folder = root && new HostFolder(root, exclusionRules());
    const service = new HostFileService({
      folder,
      client,
      roleOf: (connectionId) => this.session.participants.find((p) => p.connection_id === connectionId)?.role,
      onError: (message, error) => this.log.error(message, error),
    });
    const served = service.onDidServe((request) => this.served.fire(request));
    const feed =
      folder &&
      new ChangeFeed(
        folder,
        (payload) => void client.send('workspace.changed', payload),
        () => client.connection?.limits.max_frame_bytes ?? 64 * 1024,
      );
    this.log.info(
      folder ? `sharing ${folder.root.toString(true)} with the session's guests` : 'no folder open: guests see no shared folder',
    );
    return {
      client,
      folder,
      dispose: () => {
        feed?.dispose();
        served.dispose();
        service.dispose();
      },
    };
  }

  private startGuest(client: RelayClient, info: SessionInfo): GuestShare {
    this.registerProvider(info.sessionId, info.role === 'viewer');
    const requests = new WorkspaceClient(client);
    let connections = 0;
    const subscriptions = [
      client.on('workspace.changed', (payload) => this.fileSystemOf(info.sessionId)?.fireChanges(payload)),
      // Changes made while the connection was down were never told: look again at everything.
      client.onConnected(() => {
        if (++connections > 1) this.fileSystemOf(info.sessionId)?.fireRefresh();
      }),
    ];
    return {
      client,
      sessionId: info.sessionId,
      requests,
      placed: false,
      dispose: () => {
        for (const subscription of subscriptions) subscription.dispose();
        requests.dispose();
      },
    };
  }

  /** Keeps what a restart needs, then shows the folder in the Explorer (asking, if that restarts). */
  private async place(guest: GuestShare, info: SessionInfo): Promise<void> {
    try {
      const root = await guest.requests.stat('').catch(() => undefined);
      const name = `${root?.name ?? info.name ?? info.sessionId} (Tandem)`;
      await this.resume.keep(info, name);
      const outcome = await showSharedFolder(
        info.sessionId,
        name,
        async () => undefined,
        vscode.Uri.joinPath(this.context.globalStorageUri, 'workspaces'),
      );
      this.log.info(`shared folder of ${info.sessionId}: ${outcome}`);
    } catch (error) {
      this.log.error('could not show the shared folder', error);
    }
  }

  private async endGuest(sessionId: string, reason: string): Promise<void> {
    this.disposeProvider(sessionId);
    try {
      await this.resume.forget(sessionId);
      await removeSharedFolder(sessionId, reason);
    } catch (error) {
      this.log.error('could not clean up after the session', error);
    }
  }

  /**
   * The `tandem:` file system, read-only for viewers. A role change keeps the same file system
   * (its caches, its listeners) and registers it again with the other capability: VS Code then
   * turns its open editors read-only or writable.
   */
  private registerProvider(sessionId: string, readonly: boolean): void {
    if (this.provider?.fs.sessionId === sessionId) {
      if (this.provider.fs.readonly === readonly) return;
      this.provider.registration.dispose();
      this.provider.fs.readonly = readonly;
      this.provider.registration = vscode.workspace.registerFileSystemProvider(SHARED_SCHEME, this.provider.fs, {
        isCaseSensitive: true,
        isReadonly: readonly,
      });
      this.provider.fs.fireRefresh();
      this.keepRole(sessionId);
      return;
    }
    this.disposeProvider();
    const fs = new SharedFileSystem(sessionId, () => this.requestsFor(sessionId), readonly);
    fs.onDidChangeOnHost((path) => this.boundFileChanged.fire({ fs, path }));
    const registration = vscode.workspace.registerFileSystemProvider(SHARED_SCHEME, fs, { isCaseSensitive: true, isReadonly: readonly });
    this.provider = { fs, registration };
  }

  /** A window restarted after a role change registers its file system with the new role at once. */
  private keepRole(sessionId: string): void {
    const kept = this.resume.kept(sessionId);
    const info = this.session.info;
    if (!kept || info?.sessionId !== sessionId) return;
    this.resume.keep(info, kept.folderName).catch((error: unknown) => this.log.error('could not keep the new role', error));
  }

  private disposeProvider(sessionId?: string): void {
    if (!this.provider || (sessionId !== undefined && this.provider.fs.sessionId !== sessionId)) return;
    this.provider.registration.dispose();
    this.provider.fs.dispose();
    this.provider = undefined;
  }

  /** Guest: the session's `tandem:` file system, if one is registered. */
  get guestFileSystem(): SharedFileSystem | undefined {
    return this.provider?.fs;
  }

  private fileSystemOf(sessionId: string): SharedFileSystem | undefined {
    return this.provider?.fs.sessionId === sessionId ? this.provider.fs : undefined;
  }

  /** The session's requests; while it is being resumed, waits for it (bounded). */
  private async requestsFor(sessionId: string): Promise<WorkspaceClient | undefined> {
    const current = () => (this.guest?.sessionId === sessionId ? this.guest.requests : undefined);
    if (current() || this.resuming !== sessionId) return current();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, RESUME_WAIT_MS);
      const subscription = this.guestChanged.event(() => {
        if (current() || this.resuming !== sessionId) done();
      });
      function done() {
        clearTimeout(timer);
        subscription.dispose();
        resolve();
      }
    });
    return current();
  }

  /**
   * Deactivation (VS Code closing or reloading the window) comes before the session's own
   * disposal: the session then ends without this taking it for the guest leaving (the kept
   * session and the folder stay, for the window to resume).
   */
  dispose(): void {
    this.disposed = true;
    this.host?.dispose();
    this.guest?.dispose();
    this.host = undefined;
    this.guest = undefined;
    this.disposeProvider();
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
  }
}

function exclusionRules(): ExclusionRules {
  const { exclude, respectGitignore, readOnlyForGuests } = settings();
  return { globs: exclude, respectGitignore, readOnly: readOnlyForGuests };
}
