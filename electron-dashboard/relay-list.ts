/**
 * The relays the desktop app remembers (a JSON file in its user-data dir): each relay's origin and
 * its operator token encrypted with Electron's safeStorage (the OS keychain), never in clear. When
 * safeStorage cannot encrypt (no keyring on this desktop), tokens are kept for the run only.
 */

export interface Encryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export interface FileAccess {
  read(): string | undefined;
  write(text: string): void;
}

interface Entry {
  origin: string;
  /** base64 of safeStorage's ciphertext. */
  token?: string;
  last_opened?: string;
}

const MAX_RELAYS = 50;

/** The origin of an http(s) URL a user typed, or an error message. */
export function relayOrigin(input: string): { origin: string } | { error: string } {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return { error: `not a URL: ${input.slice(0, 200)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: 'the relay’s URL starts with http:// or https://' };
  if (url.username || url.password) return { error: 'no user name or password in the relay’s URL' };
  return { origin: url.origin };
}

export class RelayList {
  private entries: Entry[];
  private readonly memory = new Map<string, string>();

  constructor(
    private readonly file: FileAccess,
    private readonly crypto: Encryptor,
  ) {
    this.entries = parse(file.read());
  }

  list(): Array<{ origin: string; hasToken: boolean; lastOpened: string | undefined }> {
    return this.entries.map((entry) => ({
      origin: entry.origin,
      hasToken: entry.token !== undefined || this.memory.has(entry.origin),
      lastOpened: entry.last_opened,
    }));
  }

  /** Remembers a relay (first in the list). */
  opened(origin: string, at = new Date()): void {
    const existing = this.entries.find((entry) => entry.origin === origin);
    this.entries = [
      { ...existing, origin, last_opened: at.toISOString() },
      ...this.entries.filter((entry) => entry.origin !== origin),
    ].slice(0, MAX_RELAYS);
    this.save();
  }

  remove(origin: string): void {
    this.entries = this.entries.filter((entry) => entry.origin !== origin);
    this.memory.delete(origin);
    this.save();
  }

  token(origin: string): string | undefined {
    const memory = this.memory.get(origin);
    if (memory !== undefined) return memory;
    const stored = this.entries.find((entry) => entry.origin === origin)?.token;
    if (stored === undefined || !this.crypto.isEncryptionAvailable()) return undefined;
    try {
      return this.crypto.decryptString(Buffer.from(stored, 'base64'));
    } catch {
      return undefined; // another machine's or user's keychain: ask again
    }
  }

  /** Keeps the token; false when it could only be kept in memory. */
  setToken(origin: string, token: string): boolean {
    if (!this.entries.some((entry) => entry.origin === origin)) this.opened(origin);
    if (!this.crypto.isEncryptionAvailable()) {
      this.memory.set(origin, token);
      return false;
    }
    this.memory.delete(origin);
    this.entries = this.entries.map((entry) =>
      entry.origin === origin ? { ...entry, token: this.crypto.encryptString(token).toString('base64') } : entry,
    );
    this.save();
    return true;
  }

  forgetToken(origin: string): void {
    this.memory.delete(origin);
    this.entries = this.entries.map((entry) =>
      entry.origin === origin ? { origin: entry.origin, last_opened: entry.last_opened } : entry,
    );
    this.save();
  }

  private save(): void {
    this.file.write(`${JSON.stringify({ relays: this.entries }, null, 2)}\n`);
  }
}

function parse(text: string | undefined): Entry[] {
  if (!text) return [];
  try {
    const json = JSON.parse(text) as { relays?: unknown };
    if (!Array.isArray(json.relays)) return [];
    return json.relays.flatMap((raw: unknown) => {
      const entry = raw as Partial<Entry>;
      if (typeof entry?.origin !== 'string' || 'error' in relayOrigin(entry.origin)) return [];
      return [
        {
          origin: entry.origin,
          ...(typeof entry.token === 'string' && { token: entry.token }),
          ...(typeof entry.last_opened === 'string' && { last_opened: entry.last_opened }),
        },
      ];
    });
  } catch {
    return [];
  }
}
