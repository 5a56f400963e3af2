import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../relay/config/config';

/** The one-line error `loadConfig` gives for `env`; fails the test if it accepts it. */
export function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  assert.fail(`configuration ${JSON.stringify(env)} should have been refused`);
}
