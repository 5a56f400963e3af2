/**
 * Every command the extension contributes, in the order of package.json `contributes.commands`
 * (test/extension/package.test.ts keeps the two in step). No `vscode` import: tests read it.
 */
export const commandIds = {
  startSession: 'tandem.startSession',
  endSession: 'tandem.endSession',
  joinSession: 'tandem.joinSession',
  leaveSession: 'tandem.leaveSession',
  copyInviteLink: 'tandem.copyInviteLink',
  setPersonalToken: 'tandem.setPersonalToken',
  forgetPersonalToken: 'tandem.forgetPersonalToken',
  showSessionMenu: 'tandem.showSessionMenu',
  showLog: 'tandem.showLog',
  followParticipant: 'tandem.followParticipant',
  unfollow: 'tandem.unfollow',
  goToParticipant: 'tandem.goToParticipant',
  undo: 'tandem.undo',
  redo: 'tandem.redo',
  debugContinue: 'tandem.debugContinue',
  debugStepOver: 'tandem.debugStepOver',
  debugStepInto: 'tandem.debugStepInto',
  debugStepOut: 'tandem.debugStepOut',
  debugPause: 'tandem.debugPause',
  openChat: 'tandem.openChat',
  sendSelectionToChat: 'tandem.sendSelectionToChat',
  askAiAboutSelection: 'tandem.askAiAboutSelection',
  reconnect: 'tandem.reconnect',
  sendFeedback: 'tandem.sendFeedback',
  focusParticipants: 'tandem.focusParticipants',
  removeParticipant: 'tandem.removeParticipant',
  makeViewer: 'tandem.makeViewer',
  makeEditor: 'tandem.makeEditor',
  admitGuest: 'tandem.admitGuest',
  denyGuest: 'tandem.denyGuest',
  goToSharedFile: 'tandem.goToSharedFile',
  findInSharedFolder: 'tandem.findInSharedFolder',
  shareTerminal: 'tandem.shareTerminal',
  allowTerminalInput: 'tandem.allowTerminalInput',
  revokeTerminalInput: 'tandem.revokeTerminalInput',
  stopSharingTerminal: 'tandem.stopSharingTerminal',
} as const;

export type CommandId = (typeof commandIds)[keyof typeof commandIds];
