import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ServerFrame } from '../../../protocol';
import { type RedisCluster, startRedisCluster } from '../../support/redis-cluster';
import { clientFrame, httpRequest, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { sleep, waitUntil } from '../../support/wait';
import { EditingRun, type Endpoint } from '../documents/editing-run';

// Needs /usr/bin/redis-server and redis-cli: a Redis Cluster of the test's own (3 masters with a
// replica each, free ports). Two relays in this process on it, as behind Nginx without stickiness.
describe('two relays on Redis Cluster act as one', () => {
  let cluster: RedisCluster;
  let a: TestRelay;
  let b: TestRelay;
  let sessionCounter = 0;
  const freshSession = () => `ses-cluster-${process.pid}-${++sessionCounter}`;
  const settings = (id: string) => ({
    RELAY_ID: id,
    REDIS_CLUSTER_NODES: cluster.nodesSetting,
    WS_MAX_MESSAGES_PER_SECOND: '100000',
    WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
  });
  const runs: EditingRun[] = [];
  /** The relays as one session's participants reach them. */
  const endpoints = (session: string): Endpoint[] =>
    [a, b].map((relay) => ({ url: relay.url, token: (options) => relay.token({ ...options, sessions: [session] }) }));
  /** The slot of a session's keys and channels (all of them tagged `{<session>}`). */
  const slotOf = (session: string) => cluster.keySlot(`tandem:session:{${session}}`);

  before(async () => {
    cluster = await startRedisCluster();
    a = await startTestRelay(settings('relay-a'));
    b = await startTestRelay(settings('relay-b'));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await cluster?.dispose();
  });
  afterEach((t) => {
    for (const run of runs.splice(0)) run.dispose();
    for (const server of cluster.servers) server.printLogIfFailed(t);
  });

  it('chat: every message reaches everyone on both relays exactly once, in one order; a client resumes on the other relay', async () => {
    const sessions = [freshSession()];
    const clients = [await a.connect('alice', { sessions }), await b.connect('bob', { sessions }), await a.connect('carol', { sessions })];
    const perClient = 20;
    for (let n = 0; n < perClient; n++) {
      for (const [i, client] of clients.entries()) client.send(clientFrame('chat.message', { content: `${i}:${n}` }));
    }
    const total = perClient * clients.length;
    for (const client of clients) await client.until(() => chats(client).length >= total, `${total} chat messages`, 15_000);
    await sleep(100);
    const seen = clients.map(chats);
    for (const contents of seen) assert.equal(new Set(contents).size, contents.length, 'exactly once');
    assert.deepEqual(seen[1], seen[0], 'one order for everyone');
    assert.deepEqual(seen[2], seen[0]);

    // Carol leaves relay a, misses five messages, and resumes on relay b from her last position.
    const position = lastPosition(clients[2]!);
    clients[2]!.close();
    await clients[2]!.closed;
    for (let n = 0; n < 5; n++) clients[0]!.send(clientFrame('chat.message', { content: `missed ${n}` }));
    await clients[0]!.until(() => chats(clients[0]!).length === total + 5, 'alice to see her messages');
    const carol = await b.connect('carol', { sessions, query: `&since_offset=${position.offset}&since_epoch=${position.epoch}` });
    await carol.until(() => chats(carol).length === 5, 'the five missed messages');
    await sleep(100);
    assert.equal(carol.of('connect')[0]!.payload.session_log!.recovered, true);
    assert.deepEqual(chats(carol), ['missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4']);
  });

  it('edits: sessions on different shards converge over both relays, every edit once', async () => {
    // Sessions until two masters hold some (slots are spread evenly over the 3 masters).
    const sessions: string[] = [];
    const masters = new Set<string>();
    while (sessions.length < 3 || masters.size < 2) {
      const session = freshSession();
      sessions.push(session);
      masters.add((await cluster.masterOf(await slotOf(session))).id);
    }
    for (const [i, session] of sessions.entries()) {
      const run = new EditingRun(endpoints(session), { seed: 9100 + i });
      runs.push(run);
      await run.start(2, 1);
    }
    await Promise.all(runs.map((run) => run.further(60, 'edits')));
    for (const run of runs) {
      await run.stop();
      await run.assertConverged();
    }
  });

  it('a master killed (kill -9) with acknowledged edits its replica never got: editing and chat go on, none lost or doubled', async () => {
    const session = freshSession();
    const run = new EditingRun(endpoints(session), { seed: 9200 });
    runs.push(run);
    await run.start(4, 1);
    const [alice, bob] = [await a.connect('alice', { sessions: [session] }), await b.connect('bob', { sessions: [session] })];
    await run.further(100, 'edits before the failover');
    const slot = await slotOf(session);
    // Replication is asynchronous: what the master acknowledges in its last moments may never
    // reach the replica that takes over. Made certain here: the replicas are cut off, the editors
    // go on (their edits acknowledged by the master alone), then the master dies. The document
    // goes back to where the replica was, in the same epoch: the relays fork it and the rejoins
    // bring the lost revisions back from whoever had them (README "What a failover costs").
    await cluster.waitForReplicas(slot);
    await cluster.cutReplicas(slot);
    const cut = run.edits;
    await run.further(30, 'edits the replica never gets');
    const lost = run.confirmed();
    const killed = await cluster.killMasterOf(slot);
    assert.notEqual((await cluster.masterOf(slot)).id, killed.id);
    await run.further(100, 'edits after the failover');
    await run.stop();
    const text = await run.assertConverged();
    assert.ok(run.edits - cut >= 30);
    for (const marker of lost) assert.ok(text.includes(marker), `${marker}, confirmed before the failover, is back`);
    for (const relay of [a, b]) {
      const healthy = async () => (await httpRequest(`${relay.httpUrl}/health`, {}, 10_000)).status === 200;
      await waitUntil(healthy, `${relay.relay.relayId} healthy after the failover`, 20_000, 100);
    }

    // Chat after the failover, from both relays (the relays told their clients to reconnect when
    // the shard came back; these two reconnect by hand and resume).
    const clients = [await a.connect('carol', { sessions: [session] }), await b.connect('dave', { sessions: [session] })];
    for (let n = 0; n < 10; n++)
      for (const [i, client] of clients.entries()) client.send(clientFrame('chat.message', { content: `${i}:${n}` }));
    for (const client of clients) await client.until(() => chats(client).length >= 20, '20 chat messages', 20_000);
    await sleep(100);
    const seen = clients.map(chats);
    for (const contents of seen) assert.equal(new Set(contents).size, 20, 'exactly once');
    assert.deepEqual(seen[1], seen[0], 'one order for everyone');
    alice.close();
    bob.close();
  });
});

const chats = (client: TestClient) => client.of('chat.message').map((f) => f.payload.content);

/** A client's last session-log position (its last logged event, else where it was admitted). */
function lastPosition(client: TestClient): { offset: number; epoch: string } {
  const logged = client.frames
    .map((frame: ServerFrame) => (frame as { offset?: number }).offset)
    .filter((o): o is number => o !== undefined);
  const log = client.of('connect')[0]!.payload.session_log!;
  return { offset: logged.at(-1) ?? log.offset, epoch: log.epoch };
}
