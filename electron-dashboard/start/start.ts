import { BRIDGE_NAME, type DashboardBridge } from '../bridge';

/** The desktop app's start page: the relays it remembers, and a form for another. */

const bridge = (globalThis as unknown as Record<string, DashboardBridge>)[BRIDGE_NAME]!;
document.documentElement.dataset.theme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
const list = document.getElementById('relays')!;
const error = document.getElementById('error')!;
const input = document.getElementById('url') as HTMLInputElement;

async function open(url: string): Promise<void> {
  error.textContent = (await bridge.openRelay(url)) ?? '';
}

async function refresh(): Promise<void> {
  const relays = await bridge.listRelays();
  list.replaceChildren(
    ...relays.map((relay) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.className = 'link';
      button.textContent = relay.origin;
      button.addEventListener('click', () => void open(relay.origin));
      const note = document.createElement('span');
      note.className = 'muted';
      const opened = relay.lastOpened ? ` · opened ${new Date(relay.lastOpened).toLocaleString()}` : '';
      note.textContent = `${relay.hasToken ? 'token kept' : 'no token'}${opened}`;
      const remove = document.createElement('button');
      remove.textContent = 'Forget';
      remove.addEventListener('click', () => void bridge.removeRelay(relay.origin).then(refresh));
      item.append(button, note, remove);
      return item;
    }),
  );
  if (relays.length === 0) list.textContent = 'None yet.';
}

document.getElementById('open')!.addEventListener('submit', (event) => {
  event.preventDefault();
  void open(input.value);
});
void refresh();
