/**
 * docker/nginx.conf rendered for a cluster on this machine. One template serves both deployments:
 * only the marked blocks (`# >>> name` ... `# <<< name`) change, so the proxy settings (headers,
 * timeouts, retries, WebSocket upgrade) that the tests check are the ones Docker runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from './deploy-error';
import { repoFile } from './repo-files';

export const NGINX_TEMPLATE = 'docker/nginx.conf';

export interface NginxRenderOptions {
  /** `host:port` of each relay. */
  relays: string[];
  /** The listener that proxies everything (HTTPS when `tls` is set, plain HTTP otherwise). */
  listen: { host: string; port: number };
  /** TLS on `listen`, and the template's plain redirect server on `redirectPort`. */
  tls?: { certificate: string; key: string; redirectPort: number };
  /** pid file and temp files (request bodies, buffered responses) under `tmp/`, which must exist. */
  runDir: string;
  /** nginx-error.log and nginx-access.log. */
  logDir: string;
}

/** The marked blocks every template must have: a test keeps docker/nginx.conf in step. */
export const TEMPLATE_BLOCKS = ['main', 'paths', 'relays', 'redirect', 'listen'] as const;
type BlockName = (typeof TEMPLATE_BLOCKS)[number];

export function readNginxTemplate(): string {
  return readFileSync(repoFile(NGINX_TEMPLATE), 'utf8');
}

export function renderNginxConfig(template: string, options: NginxRenderOptions): string {
  if (options.relays.length === 0) throw new DeployError('nginx: at least one relay is needed');
  const temp = (name: string) => `${name}_temp_path ${quote(join(options.runDir, 'tmp', name))};`;
  let text = template;
  // The user directive (workers drop to it) is left out: locally nginx runs as whoever deploys.
  text = replaceBlock(text, 'main', [
    `pid ${quote(join(options.runDir, 'nginx.pid'))};`,
    `error_log ${quote(join(options.logDir, 'nginx-error.log'))} warn;`,
  ]);
  text = replaceBlock(text, 'paths', [
    `access_log ${quote(join(options.logDir, 'nginx-access.log'))} tandem;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp),
  ]);
  const parameters = relayServerParameters(blockLines(template, 'relays'));
  text = replaceBlock(
    text,
    'relays',
    options.relays.map((address) => `server ${address}${parameters};`),
  );
  const { tls } = options;
  if (tls) {
    text = replaceBlock(
      text,
      'redirect',
      withListen(blockLines(template, 'redirect'), `listen ${address(options.listen.host, tls.redirectPort)};`),
    );
    const lines = withListen(blockLines(template, 'listen'), `listen ${address(options.listen.host, options.listen.port)} ssl;`).map(
      (line) =>
        line
          .replace(/^(\s*ssl_certificate\s+).*;$/, `$1${quote(tls.certificate)};`)
          .replace(/^(\s*ssl_certificate_key\s+).*;$/, `$1${quote(tls.key)};`),
    );
    text = replaceBlock(text, 'listen', lines);
  } else {
    text = replaceBlock(text, 'redirect', []);
    text = replaceBlock(text, 'listen', [`listen ${address(options.listen.host, options.listen.port)};`]);
  }
  return text;
}

/** The template's parameters for a relay (`max_fails=1 fail_timeout=5s`), without Docker's `resolve`. */
function relayServerParameters(lines: string[]): string {
  const server = lines.map((line) => line.trim()).find((line) => line.startsWith('server '));
  if (!server) throw new DeployError(`${NGINX_TEMPLATE}: the relays block has no server line`);
  const parameters = server
    .replace(/;$/, '')
    .split(/\s+/)
    .slice(2)
    .filter((word) => word !== 'resolve');
  return parameters.map((word) => ` ${word}`).join('');
}

/** `lines` with its listen directives replaced by one, where the first one was. */
function withListen(lines: string[], listen: string): string[] {
  const first = lines.findIndex((line) => /^\s*listen\s/.test(line));
  if (first < 0) throw new DeployError(`${NGINX_TEMPLATE}: a block to render has no listen line`);
  const indent = /^\s*/.exec(lines[first]!)![0];
  return lines.flatMap((line, index) => (index === first ? [`${indent}${listen}`] : /^\s*listen\s/.test(line) ? [] : [line]));
}

function address(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** nginx strings in double quotes: paths may hold spaces; a quote or newline would break out. */
function quote(path: string): string {
  if (/["\n\r\\]/.test(path)) throw new DeployError(`nginx: unusable path ${JSON.stringify(path)}`);
  return `"${path}"`;
}

function markers(text: string, name: BlockName): { begin: number; end: number; indent: string } {
  const lines = text.split('\n');
  const begin = lines.findIndex((line) => line.trim() === `# >>> ${name}`);
  const end = lines.findIndex((line, index) => index > begin && line.trim() === `# <<< ${name}`);
  if (begin < 0 || end < 0) throw new DeployError(`${NGINX_TEMPLATE}: the "${name}" block (# >>> ${name} ... # <<< ${name}) is missing`);
  return { begin, end, indent: /^\s*/.exec(lines[begin]!)![0] };
}

/** The lines between a block's markers, as written. */
export function blockLines(text: string, name: BlockName): string[] {
  const { begin, end } = markers(text, name);
  return text.split('\n').slice(begin + 1, end);
}

/**
 * Replaces the lines between the markers (kept, so a rendered file shows what was generated).
 * New lines without indentation get the marker's; lines taken from the template (and empty ones)
 * keep theirs.
 */
function replaceBlock(text: string, name: BlockName, replacement: string[]): string {
  const { begin, end, indent } = markers(text, name);
  const lines = text.split('\n');
  const body = replacement.map((line) => (line === '' || /^\s/.test(line) ? line : `${indent}${line}`));
  return [...lines.slice(0, begin + 1), ...body, ...lines.slice(end)].join('\n');
}
