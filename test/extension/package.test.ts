import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commandIds } from '../../extension/commands/command-ids';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  activationEvents: string[];
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    configuration: { title: string; properties: Record<string, { description?: string; markdownDescription?: string }> };
    views: Record<string, Array<{ id: string }>>;
    viewsContainers: { activitybar: Array<{ id: string; icon: string }> };
  };
};

describe('the extension package', () => {
  it('puts every command under the Tandem category and every setting under tandem.*, each described', () => {
    const { commands, configuration } = manifest.contributes;
    assert.ok(commands.length >= 8);
    for (const command of commands) {
      assert.match(command.command, /^tandem\.[a-zA-Z]+$/);
      assert.equal(command.category, 'Tandem', command.command);
    }
    assert.equal(configuration.title, 'Tandem');
    for (const [key, setting] of Object.entries(configuration.properties)) {
      assert.match(key, /^tandem\.[a-zA-Z]+$/);
      assert.ok(setting.description ?? setting.markdownDescription, `${key} has a description`);
    }
    assert.ok(
      !Object.keys(configuration.properties).some((key) => /token|secret/i.test(key)),
      'no token in settings: tokens live in SecretStorage',
    );
  });

  it(
    'activates after start-up (its status bar item), on its URI handler and its file system, and registers every command it ' +
      'contributes',
    () => {
      assert.deepEqual(manifest.activationEvents, ['onStartupFinished', 'onUri', 'onFileSystem:tandem']);
      assert.deepEqual(
        Object.values(commandIds),
        manifest.contributes.commands.map(({ command }) => command),
        'extension/commands/command-ids.ts lists the contributed commands, in their order',
      );
      const dir = join(root, 'extension', 'commands');
      const source = readdirSync(dir)
        .map((file) => readFileSync(join(dir, file), 'utf8'))
        .join('\n');
      for (const [key, command] of Object.entries(commandIds))
        assert.ok(source.includes(`registerCommand(commandIds.${key},`), `${command} is registered in extension/commands/`);
      assert.deepEqual(
        manifest.contributes.views.tandem?.map((v) => v.id),
        ['tandem.participants', 'tandem.chat', 'tandem.debugging', 'tandem.searchResults', 'tandem.sharedServers'],
      );
    },
  );

  it('spells command ids only in extension/commands/command-ids.ts', () => {
    const spelled: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && path !== join(root, 'extension', 'commands', 'command-ids.ts')) {
          const source = readFileSync(path, 'utf8');
          for (const command of Object.values(commandIds)) if (source.includes(`'${command}'`)) spelled.push(`${path}: ${command}`);
        }
      }
    };
    walk(join(root, 'extension'));
    assert.deepEqual(spelled, []);
  });

  it('packs only the bundled extension, its chat webview, its manifest, README, licence and icons (vsce ls)', () => {
    const result = spawnSync(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls', '--no-dependencies'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const files = result.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim())
      .sort();
    assert.deepEqual(files, [
      'LICENSE',
      'README.md',
      'dist/extension.js',
      'dist/webview/chat-view.css',
      'dist/webview/chat-view.js',
      'media/tandem.svg',
      'package.json',
    ]);
  });
});
