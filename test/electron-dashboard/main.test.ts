import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type * as Electron from 'electron';
import { channels } from '../../electron-dashboard/bridge';
import { DashboardShell, type ElectronApi, windowOptions } from '../../electron-dashboard/main';

/**
 * The desktop shell's main process with Electron's modules injected (typed by Electron's real
 * types; no Electron binary runs here): the window's security settings, what it may navigate to,
 * what its IPC answers and to whom, the tokens kept only encrypted, the tray's state.
 */

type Listener = (...args: unknown[]) => unknown;

class FakeContents {
  readonly listeners = new Map<string, Listener>();
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.openHandler = handler;
  }
  on(event: string, listener: Listener): this {
    this.listeners.set(event, listener);
    return this;
  }
  /** Emits a navigation event; true when the shell let it through. */
  navigate(event: string, url: string): boolean {
    let prevented = false;
    const details = { url, preventDefault: () => (prevented = true) };
    this.listeners.get(event)!(details, url);
    return !prevented;
  }
}

class FakeWindow {
  static last: FakeWindow | undefined;
  readonly webContents = new FakeContents();
  readonly loaded: string[] = [];
  constructor(readonly options: Electron.BrowserWindowConstructorOptions) {
    FakeWindow.last = this;
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    return Promise.resolve();
  }
  once(): this {
    return this;
  }
  show(): void {}
}

class FakeTray {
  static last: FakeTray | undefined;
  image: unknown;
  tooltip = '';
  menu: unknown;
  constructor(image: unknown) {
    this.image = image;
    FakeTray.last = this;
  }
  setImage(image: unknown): void {
    this.image = image;
  }
  setToolTip(tooltip: string): void {
    this.tooltip = tooltip;
  }
  setContextMenu(menu: unknown): void {
    this.menu = menu;
  }
}

function fakeElectron(userData: string) {
  const handlers = new Map<string, Listener>();
  const listeners = new Map<string, Listener>();
  let permissionRequest: Listener | undefined;
  let permissionCheck: Listener | undefined;
  let headersReceived: Listener | undefined;
  const electron = {
    app: { getPath: () => userData, quit: () => {}, on: () => {} },
    BrowserWindow: FakeWindow,
    ipcMain: {
      handle: (channel: string, handler: Listener) => handlers.set(channel, handler),
      on: (channel: string, listener: Listener) => listeners.set(channel, listener),
    },
    // A stand-in cipher: what matters is that only its output reaches the disk.
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (text: string) => Buffer.from(`enc:${Buffer.from(text).toString('hex')}`),
      decryptString: (data: Buffer) => Buffer.from(data.toString().slice(4), 'hex').toString(),
    },
    Tray: FakeTray,
    Menu: { buildFromTemplate: (template: unknown) => template },
    nativeImage: { createFromBitmap: (buffer: Buffer, size: { width: number; height: number }) => ({ buffer, size }) },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: Listener) => (permissionRequest = handler),
        setPermissionCheckHandler: (handler: Listener) => (permissionCheck = handler),
        webRequest: { onHeadersReceived: (handler: Listener) => (headersReceived = handler) },
      },
    },
  };
  const from = (url: string) => ({ senderFrame: { url } });
  return {
    api: electron as unknown as ElectronApi,
    invoke: (channel: string, senderUrl: string, ...args: unknown[]) => handlers.get(channel)!(from(senderUrl), ...args),
    send: (channel: string, senderUrl: string, ...args: unknown[]) => listeners.get(channel)!(from(senderUrl), ...args),
    headers: (url: string, responseHeaders: Record<string, string[]>) => {
      let answer: { responseHeaders: Record<string, string[]> } | undefined;
      headersReceived!({ url, responseHeaders }, (result: { responseHeaders: Record<string, string[]> }) => (answer = result));
      return answer!.responseHeaders;
    },
    permission: (name: string) => {
      let granted: boolean | undefined;
      permissionRequest!(undefined, name, (answer: boolean) => (granted = answer));
      return { granted, checked: permissionCheck!() };
    },
  };
}

describe('the Electron main process (injected Electron modules)', () => {
  const dirs: string[] = [];
  const userData = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-electron-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('makes a sandboxed window: context isolation, no Node, no webviews, the preload beside main', () => {
    const options = windowOptions('/app/dist/electron/preload.js');
    assert.equal(options.width, 1280);
    assert.equal(options.height, 800);
    assert.deepEqual(
      {
        contextIsolation: options.webPreferences?.contextIsolation,
        sandbox: options.webPreferences?.sandbox,
        nodeIntegration: options.webPreferences?.nodeIntegration,
        nodeIntegrationInWorker: options.webPreferences?.nodeIntegrationInWorker,
        nodeIntegrationInSubFrames: options.webPreferences?.nodeIntegrationInSubFrames,
        webSecurity: options.webPreferences?.webSecurity,
        allowRunningInsecureContent: options.webPreferences?.allowRunningInsecureContent,
        webviewTag: options.webPreferences?.webviewTag,
      },
      {
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
      },
    );
    const electron = fakeElectron(userData());
    new DashboardShell(electron.api, { dir: '/app/dist/electron' }).start();
    assert.equal(FakeWindow.last!.options.webPreferences?.preload, '/app/dist/electron/preload.js');
    assert.equal(FakeWindow.last!.options.webPreferences?.sandbox, true);
  });

  it('opens the start page, or the relay named at start; navigation and new windows stay on the relay’s origin', () => {
    const electron = fakeElectron(userData());
    const shell = new DashboardShell(electron.api, { dir: '/app/dist/electron', relayUrl: 'http://127.0.0.1:8001/anything?x=1' });
    const window = shell.start() as unknown as FakeWindow;
    assert.deepEqual(window.loaded, ['http://127.0.0.1:8001/dashboard/']);
    const contents = window.webContents;
    assert.equal(contents.navigate('will-navigate', 'http://127.0.0.1:8001/dashboard/?again'), true);
    assert.equal(contents.navigate('will-navigate', shell.startUrl), true);
    for (const url of [
      'https://evil.example/',
      'http://127.0.0.1:8002/dashboard/',
      'http://localhost:8001/',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ]) {
      assert.equal(contents.navigate('will-navigate', url), false, url);
      assert.equal(contents.navigate('will-redirect', url), false, url);
      assert.equal(contents.navigate('will-frame-navigate', url), false, url);
    }
    assert.deepEqual(contents.openHandler!({ url: 'http://127.0.0.1:8001/dashboard/' }), { action: 'deny' }, 'no new windows at all');
    assert.deepEqual(contents.openHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
    assert.equal(contents.navigate('will-attach-webview', 'http://127.0.0.1:8001/'), false);
    assert.deepEqual(electron.permission('media'), { granted: false, checked: false });
    assert.deepEqual(electron.headers('http://127.0.0.1:8001/dashboard/', { 'content-security-policy': ['from the relay'] }), {
      'content-security-policy': ['from the relay'],
    });
    assert.match(electron.headers('http://127.0.0.1:8001/dashboard/', {})['Content-Security-Policy']![0]!, /script-src 'self'/);

    const fresh = new DashboardShell(fakeElectron(userData()).api, { dir: '/app/dist/electron' });
    assert.deepEqual((fresh.start() as unknown as FakeWindow).loaded, [fresh.startUrl]);
    assert.match(fresh.startUrl, /^file:\/\/\/app\/dist\/electron\/start\.html$/);
  });

  it('keeps a relay’s token encrypted, and gives it only to that relay’s own page', async () => {
    const dir = userData();
    const electron = fakeElectron(dir);
    const shell = new DashboardShell(electron.api, { dir: '/app/dist/electron' });
    shell.start();
    const relayPage = 'http://127.0.0.1:8001/dashboard/';
    assert.equal(
      await electron.invoke(channels.openRelay, shell.startUrl, 'ftp://nope'),
      'the relay’s URL starts with http:// or https://',
    );
    assert.equal(
      await electron.invoke(channels.openRelay, relayPage, 'http://127.0.0.1:8001'),
      'refused',
      'only the start page opens relays',
    );
    assert.equal(await electron.invoke(channels.openRelay, shell.startUrl, 'http://127.0.0.1:8001/'), undefined);
    assert.deepEqual(FakeWindow.last!.loaded.at(-1), relayPage);

    assert.equal(await electron.invoke(channels.setToken, relayPage, 'http://127.0.0.1:8001', 'secret-operator-token'), true);
    const onDisk = readFileSync(join(dir, 'relays.json'), 'utf8');
    assert.doesNotMatch(onDisk, /secret-operator-token/, 'never in clear on disk');
    assert.equal(await electron.invoke(channels.getToken, relayPage, 'http://127.0.0.1:8001'), 'secret-operator-token');
    assert.equal(await electron.invoke(channels.getToken, relayPage, 'http://127.0.0.1:9999'), undefined, 'not another origin’s');
    assert.equal(await electron.invoke(channels.getToken, 'https://evil.example/', 'https://evil.example'), undefined);
    assert.deepEqual(await electron.invoke(channels.listRelays, relayPage), [], 'the relay list is for the start page only');
    const listed = (await electron.invoke(channels.listRelays, shell.startUrl)) as Array<{ origin: string; hasToken: boolean }>;
    assert.deepEqual(
      listed.map((relay) => [relay.origin, relay.hasToken]),
      [['http://127.0.0.1:8001', true]],
    );

    // Remembered across runs: a second shell on the same user-data dir reads the same file.
    const again = fakeElectron(dir);
    const second = new DashboardShell(again.api, { dir: '/app/dist/electron', relayUrl: 'http://127.0.0.1:8001' });
    second.start();
    assert.equal(await again.invoke(channels.getToken, relayPage, 'http://127.0.0.1:8001'), 'secret-operator-token');
    await again.invoke(channels.forgetToken, relayPage, 'http://127.0.0.1:8001');
    assert.equal(await again.invoke(channels.getToken, relayPage, 'http://127.0.0.1:8001'), undefined);
  });

  it('shows the cluster’s state in the tray, from the relay’s page only', () => {
    const electron = fakeElectron(userData());
    const shell = new DashboardShell(electron.api, { dir: '/app/dist/electron', relayUrl: 'http://127.0.0.1:8001' });
    shell.start();
    const tray = FakeTray.last!;
    assert.equal(tray.tooltip, 'Tandem: cluster unknown (127.0.0.1:8001)');
    electron.send(channels.reportState, 'http://127.0.0.1:8001/dashboard/', 'down');
    assert.equal(shell.state, 'down');
    assert.match(tray.tooltip, /cluster down/);
    const image = tray.image as { buffer: Buffer; size: { width: number; height: number } };
    assert.deepEqual(image.size, { width: 16, height: 16 });
    assert.deepEqual([...image.buffer.subarray((8 * 16 + 8) * 4, (8 * 16 + 8) * 4 + 4)], [28, 28, 185, 255], 'a red dot (BGRA)');
    electron.send(channels.reportState, 'https://evil.example/', 'up');
    electron.send(channels.reportState, 'http://127.0.0.1:8001/dashboard/', 'nonsense');
    assert.equal(shell.state, 'down');
  });
});
