import { MemoryBroker } from '../../../relay/broker/memory-broker';
import { brokerContract } from './broker.contract';

brokerContract('memory', async (historySize) => new MemoryBroker(historySize));
