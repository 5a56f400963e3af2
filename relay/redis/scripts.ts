import type { RedisClient } from './redis-connection';
import aiBegin from './lua/ai-begin.lua';
import aiProgress from './lua/ai-progress.lua';
import aiRefresh from './lua/ai-refresh.lua';
import aiEnd from './lua/ai-end.lua';
import aiTakeOrphan from './lua/ai-take-orphan.lua';
import brokerEnsureEpoch from './lua/broker-ensure-epoch.lua';
import brokerHistory from './lua/broker-history.lua';
import brokerPublish from './lua/broker-publish.lua';
import debugApply from './lua/debug-apply.lua';
import debugClearStopped from './lua/debug-clear-stopped.lua';
import debugSetStopped from './lua/debug-set-stopped.lua';
import documentCommit from './lua/document-commit.lua';
import documentCreate from './lua/document-create.lua';
import documentLoad from './lua/document-load.lua';
import joinRequestAdd from './lua/join-request-add.lua';
import joinRequestDecide from './lua/join-request-decide.lua';
import sessionEnd from './lua/session-end.lua';
import sessionSetStanding from './lua/session-set-standing.lua';
import sessionUseInvite from './lua/session-use-invite.lua';
import sessionRenewInvites from './lua/session-renew-invites.lua';
import windowAdd from './lua/window-add.lua';
import windowRead from './lua/window-read.lua';

/**
 * The relay's Lua scripts (`lua/*.lua`, each opening with its KEYS, ARGV and reply), by the
 * command name they are defined under on the ioredis client. The files are imported as text:
 * esbuild's `text` loader inlines them in the bundles (scripts/build.mjs), and under tsx
 * scripts/lua-loader.mjs reads them (`node --import tsx --import ./scripts/lua-loader.mjs`).
 */
const scripts = {
  tandemBrokerPublish: { numberOfKeys: 3, lua: [brokerEnsureEpoch, brokerPublish] },
  tandemBrokerHistory: { numberOfKeys: 2, lua: [brokerEnsureEpoch, brokerHistory] },
  tandemDocumentCreate: { numberOfKeys: 5, lua: [documentCreate] },
  tandemDocumentLoad: { numberOfKeys: 2, lua: [documentLoad] },
  tandemDocumentCommit: { numberOfKeys: 5, lua: [documentCommit] },
  tandemSessionEnd: { numberOfKeys: 1, lua: [sessionEnd] },
  tandemSessionUseInvite: { numberOfKeys: 1, lua: [sessionUseInvite] },
  tandemSessionRenewInvites: { numberOfKeys: 1, lua: [sessionRenewInvites] },
  tandemSessionSetStanding: { numberOfKeys: 1, lua: [sessionSetStanding] },
  tandemJoinRequestAdd: { numberOfKeys: 1, lua: [joinRequestAdd] },
  tandemJoinRequestDecide: { numberOfKeys: 1, lua: [joinRequestDecide] },
  tandemDebugApply: { numberOfKeys: 2, lua: [debugApply] },
  tandemDebugSetStopped: { numberOfKeys: 2, lua: [debugSetStopped] },
  tandemDebugClearStopped: { numberOfKeys: 2, lua: [debugClearStopped] },
  tandemAiBegin: { numberOfKeys: 3, lua: [aiBegin] },
  tandemAiProgress: { numberOfKeys: 3, lua: [aiProgress] },
  tandemAiRefresh: { numberOfKeys: 2, lua: [aiRefresh] },
  tandemAiEnd: { numberOfKeys: 3, lua: [aiEnd] },
  tandemAiTakeOrphan: { numberOfKeys: 3, lua: [aiTakeOrphan] },
  tandemWindowAdd: { numberOfKeys: 2, lua: [windowAdd] },
  tandemWindowRead: { numberOfKeys: 2, lua: [windowRead] },
} satisfies Record<string, { numberOfKeys: number; lua: string[] }>;

export type ScriptName = keyof typeof scripts;

export const scriptNames = Object.keys(scripts) as ScriptName[];

/** The script's source: its files in order (a shared beginning first). */
export function scriptSource(name: ScriptName): string {
  const parts = scripts[name].lua;
  for (const part of parts) {
    // Without the loader, tsx would run the file as JavaScript and hand over its exports.
    if (typeof part !== 'string')
      throw new Error(`the Lua script ${name} did not load as text: run with --import ./scripts/lua-loader.mjs`);
  }
  return parts.join('\n');
}

/**
 * A Lua script as a typed function. ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT,
 * so a restarted Redis (empty script cache) needs nothing from the caller.
 */
export function defineScript<T>(
  client: RedisClient,
  name: ScriptName,
): (keys: readonly string[], args: readonly (string | number)[]) => Promise<T> {
  if (!(name in client)) client.defineCommand(name, { numberOfKeys: scripts[name].numberOfKeys, lua: scriptSource(name) });
  const call = (client as unknown as Record<string, (...args: (string | number)[]) => Promise<T>>)[name]!.bind(client);
  return (keys, args) => call(...keys, ...args);
}
