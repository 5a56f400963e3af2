/** What an invite link carries: where the relay is, and the signed invite. */
export interface InviteLink {
  /** The relay's http(s) URL. */
  relayUrl: string;
  invite: string;
}

export class InviteLinkError extends Error {
  override name = 'InviteLinkError';
}

/**
 * Reads an invite link as the relay makes it (`vscode://tandem.tandem/join?relay=...&invite=...`;
 * VS Code Insiders and other VS Code builds use their own scheme, so any scheme is accepted) or
 * the URI VS Code hands to the extension's URI handler (same query). Whitespace around a pasted
 * link is ignored.
 */
export function parseInviteLink(text: string): InviteLink {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new InviteLinkError('This is not a link. Paste the invite link the host sent you.');
  }
  if (url.pathname.replace(/^\/+/, '') !== 'join')
    throw new InviteLinkError('This is not a Tandem invite link (it does not lead to /join).');
  const relay = url.searchParams.get('relay');
  const invite = url.searchParams.get('invite');
  if (!relay || !invite)
    throw new InviteLinkError('The invite link is incomplete: it needs both "relay" and "invite". Ask the host to copy it again.');
  let relayUrl: URL;
  try {
    relayUrl = new URL(relay);
  } catch {
    throw new InviteLinkError(`The invite link's relay address is not a URL: ${relay}`);
  }
  if (relayUrl.protocol !== 'http:' && relayUrl.protocol !== 'https:') {
    throw new InviteLinkError(`The invite link's relay address must be http:// or https://, not ${relayUrl.protocol}`);
  }
  return { relayUrl: relayUrl.toString().replace(/\/+$/, ''), invite };
}
