import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../relay/config/config';
import { configError } from '../../support/config-error';

describe('AI settings', () => {
  it('are off without AI_MODEL', () => {
    assert.equal(loadConfig({}).ai, undefined);
  });

  it('have defaults for the limits; AI_MODEL with AI_BASE_URL needs no key (a local server)', () => {
    const ai = loadConfig({ AI_MODEL: 'llama3.2', AI_BASE_URL: 'http://localhost:11434/v1' }).ai!;
    assert.equal(ai.model, 'llama3.2');
    assert.equal(ai.baseUrl, 'http://localhost:11434/v1');
    assert.ok(ai.apiKey.length > 0, 'a placeholder: the client library needs one');
    assert.deepEqual(
      [ai.maxConcurrentPerSession, ai.maxConcurrent, ai.maxPromptChars, ai.maxAnswerChars, ai.timeoutMs, ai.viewersMayAsk],
      [2, 16, 16_000, 20_000, 30_000, false],
    );
  });

  it('default to OpenAI’s API, which needs AI_API_KEY', () => {
    assert.match(configError({ AI_MODEL: 'gpt-4o-mini' }), /AI_API_KEY is required/);
    const ai = loadConfig({ AI_MODEL: 'gpt-4o-mini', AI_API_KEY: 'sk-x' }).ai!;
    assert.equal(ai.baseUrl, 'https://api.openai.com/v1');
  });

  it('refuse AI_BASE_URL, AI_API_KEY or AI_SYSTEM_PROMPT without AI_MODEL, and bad values, in one line', () => {
    assert.match(configError({ AI_BASE_URL: 'http://localhost:11434/v1' }), /AI_MODEL is required when AI_BASE_URL is set/);
    assert.match(configError({ AI_API_KEY: 'sk-x' }), /AI_MODEL is required when AI_API_KEY is set/);
    assert.match(configError({ AI_MODEL: 'm', AI_BASE_URL: 'ftp://x' }), /AI_BASE_URL must be an http/);
    assert.match(configError({ AI_MODEL: 'm', AI_API_KEY: 'k', AI_TIMEOUT_MS: '5' }), /AI_TIMEOUT_MS must be an integer/);
    assert.match(configError({ AI_MODEL: 'm', AI_API_KEY: 'k', AI_VIEWERS_MAY_ASK: 'maybe' }), /AI_VIEWERS_MAY_ASK must be true or false/);
    assert.match(
      configError({ AI_MODEL: 'm', AI_API_KEY: 'k', AI_MAX_ANSWER_CHARS: '100000', WS_MAX_BUFFERED_BYTES: '65536' }),
      /AI_MAX_ANSWER_CHARS must be at most WS_MAX_BUFFERED_BYTES \/ 8 \(8192\)/,
    );
  });

  it('never show the key in an error', () => {
    const message = configError({ AI_MODEL: 'm', AI_API_KEY: 'k'.repeat(5000) });
    assert.match(message, /AI_API_KEY/);
    assert.ok(!message.includes('kkkk'));
  });
});
