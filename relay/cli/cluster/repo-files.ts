import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DeployError } from './deploy-error';

/**
 * A file of the checkout (`docker/nginx.conf`, the compose file). `relay deploy` runs from the
 * bundle (dist/relay.js) or from the sources (tsx): look upwards from the running code, then in
 * the working directory, so both find the one copy in the repository.
 */
export function repoFile(relativePath: string): string {
  const candidates: string[] = [];
  for (let dir = __dirname, depth = 0; depth < 5; depth++, dir = dirname(dir)) candidates.push(join(dir, relativePath));
  candidates.push(resolve(relativePath));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new DeployError(`${relativePath} not found: run \`relay deploy\` from a checkout of the repository`);
  return found;
}
