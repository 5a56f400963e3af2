import { MemoryPresenceStore } from '../../../relay/broker/memory-presence';
import { presenceContract } from './presence.contract';

presenceContract('memory', async () => new MemoryPresenceStore());
