import { BRIDGE_NAME, type ClusterState, type DashboardBridge } from '../bridge';

/**
 * Where the operator token is kept: in the Electron shell, its preload's safeStorage (encrypted
 * by the OS keychain); in a browser, sessionStorage (gone with the tab, never localStorage).
 */
export interface TokenStore {
  load(): Promise<string | undefined>;
  save(token: string): Promise<void>;
  clear(): Promise<void>;
  reportState(state: ClusterState): void;
  /** The Electron shell's relay list, if there is one. */
  chooseRelay: (() => void) | undefined;
}

const KEY = 'tandem-dashboard-token';

export function tokenStore(): TokenStore {
  const bridge = (globalThis as { [BRIDGE_NAME]?: DashboardBridge })[BRIDGE_NAME];
  const origin = location.origin;
  if (bridge) {
    let memory: string | undefined;
    return {
      load: async () => memory ?? (await bridge.getToken(origin)),
      save: async (token) => {
        if (!(await bridge.setToken(origin, token))) memory = token;
      },
      clear: async () => {
        memory = undefined;
        await bridge.forgetToken(origin);
      },
      reportState: (state) => bridge.reportState(state),
      chooseRelay: () => bridge.chooseRelay(),
    };
  }
  return {
    load: async () => sessionStorage.getItem(KEY) ?? undefined,
    save: async (token) => sessionStorage.setItem(KEY, token),
    clear: async () => sessionStorage.removeItem(KEY),
    reportState: () => {},
    chooseRelay: undefined,
  };
}
