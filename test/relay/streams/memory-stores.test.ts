import { describe } from 'node:test';
import { MemoryStreamStore } from '../../../relay/streams/memory-stream-store';
import { MemoryWindowStore } from '../../../relay/streams/memory-window-store';
import { streamStoreContract } from './stream-store.contract';
import { windowStoreContract } from './window-store.contract';

describe('MemoryStreamStore', () => streamStoreContract(async () => new MemoryStreamStore()));
describe('MemoryWindowStore', () => windowStoreContract(async () => new MemoryWindowStore()));
