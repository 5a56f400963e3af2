/**
 * Maps stack frames in the test bundles back to the .ts sources. Node's own source-map support
 * (`--enable-source-maps`, `process.setSourceMapsEnabled`) does not apply in the extension host:
 * VS Code installs its own `Error.prepareStackTrace`, which bypasses it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

const maps = new Map<string, SourceMap | undefined>();

function mapFor(bundle: string): SourceMap | undefined {
  if (!maps.has(bundle)) {
    const file = `${bundle}.map`;
    maps.set(
      bundle,
      existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]) : undefined,
    );
  }
  return maps.get(bundle);
}

/**
 * Rewrites `PATH.js:LINE:COL` in `stack` to the original source position when `PATH` (absolute,
 * or relative to the cwd: mocha strips the cwd from stacks) is under `bundleDir` and has a map.
 */
export function mapStack(stack: string, bundleDir: string): string {
  return stack.replace(/([^\s()]+\.js):(\d+):(\d+)/g, (whole, path: string, line: string, column: string) => {
    const bundle = isAbsolute(path) ? path : resolve(path);
    if (relative(bundleDir, bundle).startsWith('..')) return whole;
    const entry = mapFor(bundle)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry) || !entry.originalSource) return whole;
    const source = resolve(dirname(bundle), entry.originalSource);
    return `${relative(process.cwd(), source)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
