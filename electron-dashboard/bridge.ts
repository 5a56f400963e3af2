/**
 * The narrow API the Electron preload exposes to the renderer as `window.tandemDashboard` (and
 * nothing else of Node or Electron). In a browser it is absent and the renderer keeps the token
 * in sessionStorage. Types only: shared by preload.ts and the renderer.
 */

export type ClusterState = 'up' | 'degraded' | 'down' | 'unknown';

export interface DashboardBridge {
  /** The operator token kept (encrypted with safeStorage) for this relay origin, if any. */
  getToken(origin: string): Promise<string | undefined>;
  /** Keeps the token for this origin; false when safeStorage cannot encrypt here (then it is kept in memory only). */
  setToken(origin: string, token: string): Promise<boolean>;
  forgetToken(origin: string): Promise<void>;
  /** The cluster's state, for the tray icon. */
  reportState(state: ClusterState): void;
  /** Back to the list of relays (the shell's start page). */
  chooseRelay(): void;
  /** The start page only: the relays remembered, opening one (an error message when the URL is not a relay's), forgetting one. */
  listRelays(): Promise<Array<{ origin: string; hasToken: boolean; lastOpened: string | undefined }>>;
  openRelay(url: string): Promise<string | undefined>;
  removeRelay(origin: string): Promise<void>;
}

export const BRIDGE_NAME = 'tandemDashboard';

/** IPC channels between preload.ts and main.ts: one per call, nothing generic. */
export const channels = {
  getToken: 'tandem-dashboard:get-token',
  setToken: 'tandem-dashboard:set-token',
  forgetToken: 'tandem-dashboard:forget-token',
  reportState: 'tandem-dashboard:report-state',
  chooseRelay: 'tandem-dashboard:choose-relay',
  listRelays: 'tandem-dashboard:list-relays',
  openRelay: 'tandem-dashboard:open-relay',
  removeRelay: 'tandem-dashboard:remove-relay',
} as const;
