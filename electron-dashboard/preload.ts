import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_NAME, channels, type ClusterState, type DashboardBridge } from './bridge';

/**
 * The only thing the sandboxed page gets from the desktop shell: `window.tandemDashboard`, a few
 * typed calls, each one IPC channel (no ipcRenderer, no Node). The main process checks which page
 * is asking (main.ts `senderOrigin`).
 */
const bridge: DashboardBridge = {
  getToken: (origin) => ipcRenderer.invoke(channels.getToken, origin) as Promise<string | undefined>,
  setToken: (origin, token) => ipcRenderer.invoke(channels.setToken, origin, token) as Promise<boolean>,
  forgetToken: (origin) => ipcRenderer.invoke(channels.forgetToken, origin) as Promise<void>,
  reportState: (state: ClusterState) => ipcRenderer.send(channels.reportState, state),
  chooseRelay: () => ipcRenderer.send(channels.chooseRelay),
  listRelays: () => ipcRenderer.invoke(channels.listRelays) as ReturnType<DashboardBridge['listRelays']>,
  openRelay: (url) => ipcRenderer.invoke(channels.openRelay, url) as Promise<string | undefined>,
  removeRelay: (origin) => ipcRenderer.invoke(channels.removeRelay, origin) as Promise<void>,
};

contextBridge.exposeInMainWorld(BRIDGE_NAME, bridge);
