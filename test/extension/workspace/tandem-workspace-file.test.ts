import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listedFolders, recentTimes, tandemWorkspaceSession, workspaceFileName } from '../../../extension/workspace/tandem-workspace-file';

/**
 * What a guest window that came back from its restart without folders (folderless-workspace.ts)
 * decides from: whether its workspace file is one of Tandem's, how many folders the file lists,
 * and how often it has reloaded lately.
 */
describe('Tandem’s workspace files', () => {
  const workspaces = '/home/me/.local/share/code-server/User/globalStorage/tandem.tandem/workspaces';

  it('knows its own files by folder and name, and nothing else', () => {
    assert.equal(tandemWorkspaceSession(`${workspaces}/${workspaceFileName('ses-abc')}`, workspaces), 'ses-abc');
    assert.equal(tandemWorkspaceSession(`${workspaces}/ses-abc.code-workspace`, `${workspaces}/`), 'ses-abc');
    assert.equal(tandemWorkspaceSession(undefined, workspaces), undefined, 'no workspace file');
    assert.equal(tandemWorkspaceSession('/home/me/project.code-workspace', workspaces), undefined, 'the user’s own workspace');
    assert.equal(tandemWorkspaceSession(`${workspaces}-old/ses-abc.code-workspace`, workspaces), undefined, 'a sibling folder');
    assert.equal(tandemWorkspaceSession(`${workspaces}/deeper/ses-abc.code-workspace`, workspaces), undefined, 'a subfolder');
    assert.equal(tandemWorkspaceSession(`${workspaces}/ses-abc.json`, workspaces), undefined, 'another kind of file');
  });

  it('counts the folders a file lists; anything unreadable lists none', () => {
    const file = { folders: [{ path: '/home/me/app' }, { name: 'host (Tandem)', uri: 'tandem://ses-abc/' }], settings: {} };
    assert.equal(listedFolders(`${JSON.stringify(file, null, 2)}\n`), 2);
    assert.equal(listedFolders('{"folders": []}'), 0);
    assert.equal(listedFolders('{"folders": "x"}'), 0);
    assert.equal(listedFolders('null'), 0);
    assert.equal(listedFolders(''), 0, 'a file read before it was written');
    assert.equal(listedFolders('{"folders": [{"path": "/a"}'), 0, 'half written');
  });

  it('keeps only the reloads of the last window of time', () => {
    const now = 1_000_000;
    assert.deepEqual(recentTimes(JSON.stringify([now - 400_000, now - 1000, now - 10]), now, 300_000), [now - 1000, now - 10]);
    assert.deepEqual(recentTimes(undefined, now, 300_000), []);
    assert.deepEqual(recentTimes('not json', now, 300_000), []);
    assert.deepEqual(recentTimes('[1, "2", null]', 100, 300_000), [1]);
    assert.deepEqual(
      recentTimes(JSON.stringify([now + 5000]), now, 300_000),
      [],
      'a time from the future (clock moved back) does not count',
    );
  });
});
