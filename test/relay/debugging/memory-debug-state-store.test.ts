import { MemoryDebugStateStore } from '../../../relay/debugging/memory-debug-state-store';
import { debugStateStoreContract } from './debug-state-store.contract';

debugStateStoreContract('memory', async (options) => new MemoryDebugStateStore(options), { shared: false });
