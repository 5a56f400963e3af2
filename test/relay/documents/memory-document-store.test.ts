import { MemoryBroker } from '../../../relay/broker/memory-broker';
import { MemoryDocumentStore } from '../../../relay/documents/memory-document-store';
import { documentStoreContract } from './document-store.contract';

documentStoreContract('memory', async (options) => {
  const broker = new MemoryBroker();
  const store = new MemoryDocumentStore({ ...options, broker });
  return {
    store,
    broker,
    close: async () => {
      await store.close();
      await broker.close();
    },
  };
});
