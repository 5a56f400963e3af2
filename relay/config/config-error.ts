/** Bad configuration: the message is one line that names the setting and what was wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
