/**
 * The defaults of `tandem.exclude` and `tandem.readOnlyForGuests` (package.json repeats them, and
 * a test keeps the two equal), and the rules no setting can lift. Each entry says why it is there.
 * A floor, not a guarantee: a secret under another name is shared unless the host excludes it.
 */

/** Never shared by default: secrets that commonly sit in a project folder. */
export const DEFAULT_EXCLUDE: readonly string[] = [
  // Environment files: `.env`, and its per-environment variants (`.env.local`, `.env.production`;
  // `.env.example` too, which is the price of one simple pattern).
  '**/.env',
  '**/.env.*',
  // Private keys and certificates with their keys.
  '**/*.pem',
  '**/*.key',
  '**/id_rsa',
  '**/id_dsa',
  '**/id_ecdsa',
  '**/id_ed25519',
  '**/*.p12',
  '**/*.pfx',
  '**/*.keystore',
  '**/*.jks',
  // Cloud and registry credentials: AWS keys, npm and PyPI tokens, netrc and git passwords,
  // Docker registry logins, kubeconfig.
  '**/.aws',
  '**/.npmrc',
  '**/.pypirc',
  '**/.netrc',
  '**/.git-credentials',
  '**/.docker/config.json',
  '**/.kube/config',
];

/** Shared but read-only for guests by default: files that make the host's machine run code. */
export const DEFAULT_READ_ONLY: readonly string[] = [
  // Tasks (some run when the folder opens), launch configurations and settings (which name
  // programs VS Code and extensions run).
  '.vscode',
  // Dev container definitions: Dockerfiles, `postCreateCommand` and friends, run on the host's
  // container engine; `.devcontainer.json` is the one-file form at the top of the folder.
  '.devcontainer',
  '.devcontainer.json',
  // A workspace file holds settings, tasks and launch configurations, as `.vscode` does.
  '*.code-workspace',
  // `filter=` and `diff=` attributes make git run the commands configured for them.
  '.gitattributes',
  // direnv runs `.envrc` when a shell enters the folder.
  '.envrc',
  // Git hooks kept in the folder (husky sets `core.hooksPath` to it): git runs them on commit.
  '.husky',
];

/**
 * Read-only for guests whatever the settings say: the files that hold the rules themselves. The
 * `.gitignore` files decide what is excluded, and `tandem.*` settings may live in the folder's
 * `.vscode/settings.json` or a workspace file; a guest who could write them could lift every
 * other protection (an empty `.gitignore`, or `!.env.local` in a nested one).
 */
export const ALWAYS_READ_ONLY: readonly string[] = ['.gitignore', '.vscode/settings.json', '*.code-workspace'];
