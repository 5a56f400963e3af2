import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALWAYS_READ_ONLY, DEFAULT_EXCLUDE, DEFAULT_READ_ONLY } from '../../../extension/workspace/default-rules';
import { Exclusions } from '../../../extension/workspace/exclusions';
import { foldName, globToRegExp, matchesAny } from '../../../extension/workspace/glob';
import { isRiskyNameOn, isWirePath, prefixesOf, relativeWirePath } from '../../../extension/workspace/wire-path';

const DEFAULT_GLOBS = DEFAULT_EXCLUDE;

const settings = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
  }
).contributes.configuration.properties;

function matcher(...patterns: string[]) {
  const compiled = patterns.map(globToRegExp).filter((r): r is RegExp => r !== undefined);
  return (path: string) => matchesAny(compiled, path);
}

/** Exclusions over an in-memory set of `.gitignore` files. */
function exclusions(gitignores: Record<string, string>, globs: readonly string[] = DEFAULT_GLOBS, respectGitignore = true) {
  const reads: string[] = [];
  const rules = new Exclusions({ globs, respectGitignore }, async (path) => {
    reads.push(path);
    return gitignores[path];
  });
  return { rules, reads };
}

describe('read-only for guests (tandem.readOnlyForGuests)', () => {
  it('covers the matching folders at any depth and everything in them, and nothing else', () => {
    const rules = new Exclusions({ globs: [], respectGitignore: false, readOnly: ['.vscode', '.devcontainer'] }, async () => undefined);
    for (const path of ['.vscode', '.vscode/tasks.json', 'app/.vscode/launch.json', 'app/.devcontainer/devcontainer.json'])
      assert.ok(rules.isReadOnly(path), path);
    for (const path of ['src/app.ts', 'vscode/tasks.json', '.vscodeignore', 'docs/.vscode.md']) assert.ok(!rules.isReadOnly(path), path);
    assert.ok(
      !new Exclusions({ globs: [], respectGitignore: false }, async () => undefined).isReadOnly('.vscode/tasks.json'),
      'none without the setting',
    );
  });

  it('covers by default the files that run code on the host (dev containers, workspace files, git filters, direnv, git hooks)', () => {
    const rules = new Exclusions({ globs: [], respectGitignore: true, readOnly: DEFAULT_READ_ONLY }, async () => undefined);
    for (const path of [
      '.devcontainer.json',
      'team.code-workspace',
      'sub/x.code-workspace',
      '.gitattributes',
      'lib/.gitattributes',
      '.envrc',
      '.husky/pre-commit',
      '.vscode/launch.json',
    ]) {
      assert.ok(rules.isReadOnly(path), path);
    }
    for (const path of ['devcontainer.json', 'code-workspace.md', 'src/.envrc.md', 'husky/readme'])
      assert.ok(!rules.isReadOnly(path), path);
  });

  it('keeps the rules files read-only whatever the settings say: .gitignore at any depth, .vscode/settings.json, workspace files', () => {
    // The attack: an editor empties the root .gitignore, or adds `!.env.local` to a nested one,
    // and what it ignored becomes readable; or rewrites the tandem.* settings the folder holds.
    const none = new Exclusions({ globs: [], respectGitignore: true, readOnly: [] }, async () => undefined);
    for (const path of ['.gitignore', 'sub/deep/.gitignore', '.GITIGNORE', '.vscode/settings.json', 'my.code-workspace'])
      assert.ok(none.isReadOnly(path), path);
    assert.ok(
      !none.isReadOnly('src/app.ts') && !none.isReadOnly('.vscode/tasks.json') && !none.isReadOnly('sub/.vscode/settings.json.bak'),
    );
    assert.deepEqual(
      ALWAYS_READ_ONLY.filter((pattern) => !matchesAny([globToRegExp(pattern)!], pattern.replace('*', 'x'))),
      [],
    );
  });
});

describe('the default rules', () => {
  it('are the settings’ defaults in package.json', () => {
    assert.deepEqual(settings['tandem.exclude']?.default, DEFAULT_EXCLUDE);
    assert.deepEqual(settings['tandem.readOnlyForGuests']?.default, DEFAULT_READ_ONLY);
  });

  it('exclude environment files, private keys and cloud or registry credentials at any depth', async () => {
    const { rules } = exclusions({});
    for (const path of [
      '.env',
      '.env.local',
      '.env.production',
      'apps/web/.env.development.local',
      'certs/server.pem',
      'tls.key',
      '.ssh/id_rsa',
      'deploy/id_ed25519',
      'id_ecdsa',
      'signing/release.p12',
      'win/cert.pfx',
      'android/app/release.keystore',
      'java/store.jks',
      '.aws/credentials',
      'home/.aws/config',
      '.npmrc',
      'packages/a/.npmrc',
      '.pypirc',
      '.netrc',
      '.git-credentials',
      '.docker/config.json',
      '.kube/config',
    ]) {
      assert.ok(await rules.isExcluded(path, false), path);
    }
    for (const path of ['src/env.ts', 'environment.ts', 'id_rsa.pub', 'docs/keys.md', 'docker/config.json', '.npmrc.md', 'kube/config']) {
      assert.ok(!(await rules.isExcluded(path, false)), path);
    }
  });
});

describe('names in one folded form (NFC, case folding)', () => {
  it('folds look-alikes that a case-insensitive disk takes for one name', () => {
    assert.equal(foldName('secret.\u212Aey'), 'secret.key', 'KELVIN SIGN');
    assert.equal(foldName('cafe\u0301.PEM'), 'caf\u00e9.pem', 'NFC');
    assert.equal(foldName('.\u017Fecret'), '.secret', 'LONG S folds to s');
    assert.equal(foldName('STRASSE-\u00df').length, 'strasse-\u00df'.length, 'a fold that changes the length is left out');
  });

  it('lets no Unicode look-alike of an excluded or read-only name slip past a pattern', async () => {
    // The attack: on a case-insensitive disk `secret.\u212Aey` is the host's `secret.key`; a
    // matcher comparing raw text (or case folding without NFC) would share it.
    const { rules } = exclusions({ '.gitignore': 'secrets/*.json\n' });
    for (const path of [
      'secret.\u212Aey',
      'SECRET.\u212AEY',
      'cert.P\u0045M',
      '.\u0045NV',
      '.env.loca\u0301l',
      'Secrets/prod.JSON',
      'secrets/\u017Fite.json',
    ]) {
      assert.ok(await rules.isExcluded(path, false), path);
    }
    const pem = matcher('**/caf\u00e9.pem');
    assert.ok(pem('cafe\u0301.pem'), 'a decomposed name matches a composed pattern');
    assert.ok(matcher('**/cafe\u0301.pem')('caf\u00e9.PEM'), 'and the other way round');
    const readOnly = new Exclusions({ globs: [], respectGitignore: false, readOnly: DEFAULT_READ_ONLY }, async () => undefined);
    assert.ok(readOnly.isReadOnly('.V\u017FCODE/tasks.json'), 'LONG S in .vscode');
    assert.ok(readOnly.isReadOnly('.git\u0041ttributes'));
  });

  it('keeps a pattern whose folded class range would be invalid, as written', () => {
    assert.ok(matcher('log[Z-a].txt')('log_.txt'));
  });
});

describe('glob patterns (tandem.exclude)', () => {
  it('matches the default secrets at any depth, and nothing like them', () => {
    const excluded = matcher(...DEFAULT_GLOBS);
    for (const path of ['.env', 'app/.env', 'a/b/c/.env', 'cert.pem', 'deep/er/server.key', 'X.PEM', '.ENV'])
      assert.ok(excluded(path), path);
    for (const path of ['env', 'a.envx', 'pem', 'key.txt', 'keys/readme', 'a/.environment']) assert.ok(!excluded(path), path);
  });

  it('follows VS Code glob syntax: *, ?, **, {a,b}, [abc], [!abc]', () => {
    assert.ok(matcher('src/*.ts')('src/a.ts'));
    assert.ok(!matcher('src/*.ts')('src/sub/a.ts'), '* stays within one name');
    assert.ok(matcher('src/**/*.ts')('src/sub/deeper/a.ts'));
    assert.ok(matcher('src/**/*.ts')('src/a.ts'), '** may be no folder at all');
    assert.ok(matcher('secrets/**')('secrets'));
    assert.ok(matcher('secrets/**')('secrets/a/b'));
    assert.ok(!matcher('secrets/**')('secretsx/a'));
    assert.ok(matcher('**/*.{pem,crt}')('a/b.crt'));
    assert.ok(matcher('**/id_{rsa,ed25519}{,.pub}')('home/.ssh/id_ed25519.pub'));
    assert.ok(matcher('file?.txt')('file1.txt'));
    assert.ok(!matcher('file?.txt')('file10.txt'));
    assert.ok(matcher('log[0-9].txt')('log7.txt'));
    assert.ok(!matcher('log[!0-9].txt')('log7.txt'));
    assert.ok(matcher('a+b(c).txt')('a+b(c).txt'), 'regex characters are literal');
    assert.ok(!matcher('a.b')('axb'));
  });

  it('treats a pattern without a slash as a name at any depth, and trims ./ and slashes', () => {
    assert.ok(matcher('*.secret')('deep/x.secret'));
    assert.ok(matcher('./config/local.json')('config/local.json'));
    assert.ok(matcher('/config/')('config'));
    assert.equal(globToRegExp('  '), undefined);
  });
});

describe('Exclusions', () => {
  it('always hides .git, and everything inside an excluded folder', async () => {
    const { rules } = exclusions({}, [], false);
    assert.ok(await rules.isExcluded('.git', true));
    assert.ok(await rules.isExcluded('.git/hooks/pre-commit', false));
    assert.ok(await rules.isExcluded('sub/.git/config', false));
    assert.ok(!(await rules.isExcluded('.github/workflows/ci.yml', false)));
    assert.ok(!(await rules.isExcluded('', true)), 'the folder itself is shared');
  });

  it('applies tandem.exclude to the path and to every folder above it', async () => {
    const { rules } = exclusions({}, ['**/.env', 'private'], false);
    assert.ok(await rules.isExcluded('app/.env', false));
    assert.ok(await rules.isExcluded('.env/inside.txt', false), 'a folder named .env hides what it holds');
    assert.ok(await rules.isExcluded('lib/private/notes.md', false));
    assert.ok(!(await rules.isExcluded('lib/public/notes.md', false)));
  });

  it('reads .gitignore files from the top down, the deepest one with an opinion deciding', async () => {
    const { rules } = exclusions({
      '.gitignore': 'node_modules/\n*.log\n/build\n!keep.log\n# a comment\n',
      'packages/app/.gitignore': 'generated/\n!important.log\nsecret-*.json\n',
    });
    assert.ok(await rules.isExcluded('node_modules', true));
    assert.ok(await rules.isExcluded('packages/app/node_modules/x/index.js', false));
    assert.ok(!(await rules.isExcluded('node_modules', false)), '`dir/` rules apply to folders only');
    assert.ok(await rules.isExcluded('debug.log', false));
    assert.ok(await rules.isExcluded('a/b/debug.log', false));
    assert.ok(!(await rules.isExcluded('keep.log', false)), 're-included');
    assert.ok(await rules.isExcluded('build', true));
    assert.ok(!(await rules.isExcluded('src/build', true)), '/build is anchored to its .gitignore’s folder');
    assert.ok(await rules.isExcluded('packages/app/generated/types.ts', false));
    assert.ok(!(await rules.isExcluded('packages/other/generated/types.ts', false)), 'a subfolder’s rules stay in it');
    assert.ok(!(await rules.isExcluded('packages/app/important.log', false)), 'a deeper file re-includes');
    assert.ok(await rules.isExcluded('packages/app/secret-prod.json', false));
    assert.ok(await rules.isExcluded('.env', false), 'the globs apply too');
  });

  it('cannot re-include a file whose folder is excluded (as git)', async () => {
    const { rules } = exclusions({ '.gitignore': 'dist/\n!dist/keep.js\n' });
    assert.ok(await rules.isExcluded('dist/keep.js', false));
  });

  it('ignores .gitignore when told to, reads each one once, and again after reset()', async () => {
    const off = exclusions({ '.gitignore': '*.log\n' }, [], false);
    assert.ok(!(await off.rules.isExcluded('a.log', false)));
    assert.deepEqual(off.reads, []);

    const on = exclusions({ '.gitignore': '*.log\n' }, []);
    for (let i = 0; i < 3; i++) await on.rules.isExcluded('a/b/c.log', false);
    assert.deepEqual(on.reads.sort(), ['.gitignore', 'a/.gitignore', 'a/b/.gitignore']);
    on.rules.reset();
    await on.rules.isExcluded('x.log', false);
    assert.equal(on.reads.filter((p) => p === '.gitignore').length, 2);
    assert.ok(Exclusions.isRulesFile('a/.gitignore') && Exclusions.isRulesFile('.gitignore') && !Exclusions.isRulesFile('a.gitignore'));
  });

  it('mayBeExcluded: for a deleted path of unknown kind, either rule counts', async () => {
    const { rules } = exclusions({ '.gitignore': 'out/\n' }, []);
    assert.ok(await rules.mayBeExcluded('out'));
    assert.ok(!(await rules.isExcluded('out', false)));
  });
});

describe('wire paths', () => {
  it('accepts relative /-separated paths only', () => {
    for (const path of ['', 'a', 'a/b.txt', '..a', 'a/.b', 'ü/👋 x']) assert.ok(isWirePath(path), path);
    for (const path of ['/a', 'a/', 'a//b', '.', '..', 'a/../b', 'a/./b', 'a\\b', 'a\u0000b']) assert.ok(!isWirePath(path), path);
  });

  it('lists the prefixes of a path and finds one under a root URI path', () => {
    assert.deepEqual(prefixesOf('a/b/c'), ['a', 'a/b', 'a/b/c']);
    assert.deepEqual(prefixesOf(''), []);
    assert.equal(relativeWirePath('/home/h/proj', '/home/h/proj/src/a.ts'), 'src/a.ts');
    assert.equal(relativeWirePath('/home/h/proj/', '/home/h/proj'), '');
    assert.equal(relativeWirePath('/home/h/proj', '/home/h/project/a.ts'), undefined);
  });

  it('on Windows, refuses names the file system would read as another file', () => {
    for (const name of ['.env.', '.env ', 'file:stream', 'PROGRA~1', 'con', 'NUL.txt', 'a?b'])
      assert.ok(isRiskyNameOn('win32', name), name);
    for (const name of ['.env', 'a.txt', 'console.log']) assert.ok(!isRiskyNameOn('win32', name), name);
    assert.ok(!isRiskyNameOn('linux', 'file:stream'));
  });
});
