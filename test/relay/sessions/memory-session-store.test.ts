import { MemorySessionStore } from '../../../relay/sessions/memory-session-store';
import { sessionStoreContract } from './session-store.contract';

sessionStoreContract('memory', async () => new MemorySessionStore(), { shared: false });
