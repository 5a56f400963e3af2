import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Electron from 'electron';
import { channels, type ClusterState } from './bridge';
import { RelayList, relayOrigin } from './relay-list';

/**
 * The desktop shell: a thin main process around the same renderer the relay serves at
 * `/dashboard/`. One window, sandboxed (contextIsolation, sandbox, no nodeIntegration), with the
 * narrow preload API of bridge.ts; it may only show the start page (the relays remembered) and
 * the chosen relay's own origin: other navigation, new windows, webviews and permission requests
 * are refused. The tray icon shows the cluster's state. Electron's modules come in as a
 * parameter, so a test can check all of this where no Electron binary exists.
 */

export type ElectronApi = Pick<
  typeof Electron,
  'app' | 'BrowserWindow' | 'ipcMain' | 'safeStorage' | 'Tray' | 'Menu' | 'nativeImage' | 'session'
>;

export interface ShellOptions {
  /** Where preload.js and start.html are (dist/electron/). */
  dir: string;
  /** A relay to open at once (TANDEM_RELAY_URL), instead of the start page. */
  relayUrl?: string;
}

/** The window's settings: the security ones are the point (checked by test/dashboard/electron-main.test.ts). */
export function windowOptions(preload: string): Electron.BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    title: 'Tandem relay dashboard',
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
    },
  };
}

/** The start page's CSP (in its meta tag), and the one a relay's page gets when its relay sent none (an older relay). */
export const START_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";
export const RELAY_PAGE_CSP = `${START_PAGE_CSP}; connect-src 'self'; frame-ancestors 'none'`;

const STATE_COLOURS: Record<ClusterState, [number, number, number]> = {
  up: [21, 128, 61],
  degraded: [180, 83, 9],
  down: [185, 28, 28],
  unknown: [107, 114, 128],
};

export class DashboardShell {
  window: Electron.BrowserWindow | undefined;
  tray: Electron.Tray | undefined;
  /** The origin the window may show besides the start page. */
  relay: string | undefined;
  state: ClusterState = 'unknown';
  readonly relays: RelayList;
  readonly startUrl: string;

  constructor(
    private readonly electron: ElectronApi,
    private readonly options: ShellOptions,
  ) {
    const file = join(electron.app.getPath('userData'), 'relays.json');
    this.relays = new RelayList(
      {
        read: () => {
          try {
            return readFileSync(file, 'utf8');
          } catch {
            return undefined;
          }
        },
        write: (text) => {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, text, { mode: 0o600 });
        },
      },
      electron.safeStorage,
    );
    this.startUrl = pathToFileURL(join(options.dir, 'start.html')).href;
  }

  /** Once the app is ready: the window, the tray, the IPC handlers, the locks. */
  start(): Electron.BrowserWindow {
    const { BrowserWindow, session } = this.electron;
    // Nothing asks for the camera, notifications or the like: every permission is refused.
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    // The relay sends its CSP; a page of it that came without one gets the same rules here.
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      const headers = details.responseHeaders ?? {};
      const has = Object.keys(headers).some((name) => name.toLowerCase() === 'content-security-policy');
      callback({
        responseHeaders: has || !this.allowed(details.url) ? headers : { ...headers, 'Content-Security-Policy': [RELAY_PAGE_CSP] },
      });
    });
    const window = new BrowserWindow(windowOptions(join(this.options.dir, 'preload.js')));
    this.window = window;
    this.lock(window.webContents);
    this.handleIpc();
    this.makeTray();
    window.once('ready-to-show', () => window.show());
    const initial = this.options.relayUrl ? relayOrigin(this.options.relayUrl) : undefined;
    if (initial && 'origin' in initial) void this.open(initial.origin);
    else void window.loadURL(this.startUrl);
    return window;
  }

  /** Whether the window may show `url`: the start page, or a page of the chosen relay's origin. */
  allowed(url: string): boolean {
    if (url === this.startUrl) return true;
    try {
      return this.relay !== undefined && new URL(url).origin === this.relay;
    } catch {
      return false;
    }
  }

  async open(origin: string): Promise<void> {
    this.relay = origin;
    this.relays.opened(origin);
    this.setState('unknown');
    await this.window?.loadURL(`${origin}/dashboard/`);
  }

  setState(state: ClusterState): void {
    this.state = state;
    if (!this.tray) return;
    this.tray.setImage(this.icon(state));
    this.tray.setToolTip(`Tandem: cluster ${state}${this.relay ? ` (${new URL(this.relay).host})` : ''}`);
  }

  private lock(contents: Electron.WebContents): void {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    const guard = (event: { preventDefault(): void }, url: string) => {
      if (!this.allowed(url)) event.preventDefault();
    };
    contents.on('will-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-frame-navigate', (event) => {
      if (!this.allowed(event.url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  }

  /** The sender's page: the start page or the relay's (the IPC answers nobody else). */
  private senderOrigin(event: Electron.IpcMainInvokeEvent | Electron.IpcMainEvent): 'start' | string | undefined {
    const url = event.senderFrame?.url ?? '';
    if (url === this.startUrl) return 'start';
    try {
      const origin = new URL(url).origin;
      return origin === this.relay ? origin : undefined;
    } catch {
      return undefined;
    }
  }

  private handleIpc(): void {
    const { ipcMain } = this.electron;
    // Token calls answer only the relay's own page, and only about its own origin.
    const fromRelay = (event: Electron.IpcMainInvokeEvent, origin: unknown): origin is string =>
      typeof origin === 'string' && this.senderOrigin(event) === origin;
    const fromStart = (event: Electron.IpcMainInvokeEvent | Electron.IpcMainEvent) => this.senderOrigin(event) === 'start';
    ipcMain.handle(channels.getToken, (event, origin: unknown) => (fromRelay(event, origin) ? this.relays.token(origin) : undefined));
    ipcMain.handle(channels.setToken, (event, origin: unknown, token: unknown) =>
      fromRelay(event, origin) && typeof token === 'string' && token.length <= 8192 ? this.relays.setToken(origin, token) : false,
    );
    ipcMain.handle(channels.forgetToken, (event, origin: unknown) => {
      if (fromRelay(event, origin)) this.relays.forgetToken(origin);
    });
    ipcMain.on(channels.reportState, (event, state: unknown) => {
      if (this.senderOrigin(event) !== undefined && typeof state === 'string' && state in STATE_COLOURS)
        this.setState(state as ClusterState);
    });
    ipcMain.on(channels.chooseRelay, (event) => {
      if (this.senderOrigin(event) === undefined) return;
      this.relay = undefined;
      this.setState('unknown');
      void this.window?.loadURL(this.startUrl);
    });
    ipcMain.handle(channels.listRelays, (event) => (fromStart(event) ? this.relays.list() : []));
    ipcMain.handle(channels.openRelay, async (event, url: unknown) => {
      if (!fromStart(event) || typeof url !== 'string') return 'refused';
      const parsed = relayOrigin(url);
      if ('error' in parsed) return parsed.error;
      await this.open(parsed.origin);
      return undefined;
    });
    ipcMain.handle(channels.removeRelay, (event, origin: unknown) => {
      if (fromStart(event) && typeof origin === 'string') this.relays.remove(origin);
    });
  }

  private makeTray(): void {
    const { Tray, Menu } = this.electron;
    try {
      this.tray = new Tray(this.icon('unknown'));
    } catch {
      return; // no system tray on this desktop
    }
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Show dashboard', click: () => this.window?.show() },
        { label: 'Choose relay…', click: () => void this.window?.loadURL(this.startUrl) },
        { type: 'separator' },
        { label: 'Quit', click: () => this.electron.app.quit() },
      ]),
    );
    this.setState('unknown');
  }

  /** A 16×16 dot in the state's colour (drawn here: no image files to ship). */
  private icon(state: ClusterState): Electron.NativeImage {
    const size = 16;
    const [r, g, b] = STATE_COLOURS[state];
    const pixels = Buffer.alloc(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = (x - 7.5) ** 2 + (y - 7.5) ** 2 <= 7 ** 2;
        pixels.set(inside ? [b, g, r, 255] : [0, 0, 0, 0], (y * size + x) * 4); // BGRA
      }
    }
    return this.electron.nativeImage.createFromBitmap(pixels, { width: size, height: size });
  }
}

/** Runs the app with the real Electron (only when loaded by Electron: under Node this module only exports). */
export async function main(electron: ElectronApi, options: ShellOptions): Promise<DashboardShell> {
  const { app } = electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
  }
  await app.whenReady();
  const shell = new DashboardShell(electron, options);
  shell.start();
  app.on('second-instance', () => shell.window?.show());
  app.on('window-all-closed', () => app.quit());
  return shell;
}

if (process.versions.electron && process.type === 'browser') {
  void import('electron').then((electron) =>
    main(electron, { dir: __dirname, ...(process.env.TANDEM_RELAY_URL && { relayUrl: process.env.TANDEM_RELAY_URL }) }),
  );
}
