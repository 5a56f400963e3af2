import { describe } from 'node:test';
import { MemoryAnswerRegistry } from '../../../relay/ai/memory-answer-registry';
import { answerRegistryContract } from './answer-registry.contract';

describe('MemoryAnswerRegistry', () => {
  answerRegistryContract(async () => new MemoryAnswerRegistry());
});
