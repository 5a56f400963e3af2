import { z } from 'zod';
import { ConnectionId } from './common';
import { Base64 } from './workspace';

/**
 * Shared servers (port forwarding): the host shares a TCP port of its own machine under a name,
 * and each TCP connection a guest makes to its local listener becomes a stream through the relay.
 * A guest names a share by id and a stream by an id of its choosing, never a host or a port: the
 * host decides where a stream goes, from its own list, and only ever connects to 127.0.0.1.
 *
 * Flow control is by credit, per stream and direction: a sender may have at most
 * `TUNNEL_LIMITS.windowBytes` of data sent and not yet acknowledged by `tunnel.ack` (the reader
 * acknowledges what it has written to its socket). Data goes in chunks of at most
 * `TUNNEL_LIMITS.chunkBytes` raw bytes, base64 in the JSON frame.
 *
 * Routing: the host's frames name the guest connection (`requester`) they are for; a guest's
 * frames carry no `requester` and go to the host, which gets them with the guest's connection
 * added. So the same stream id from two guests is two streams.
 */

export const TUNNEL_LIMITS = {
  /** Raw bytes of one `tunnel.data` (43,692 characters of base64). */
  chunkBytes: 32 * 1024,
  /** Unacknowledged bytes a sender may have in flight on one stream. */
  windowBytes: 256 * 1024,
  /** Servers one host shares at once. */
  servers: 32,
} as const;

/** The longest base64 text of one chunk. */
const MAX_CHUNK_BASE64 = 4 * Math.ceil(TUNNEL_LIMITS.chunkBytes / 3);

export const ShareId = z.string().regex(/^[\w-]{1,64}$/u, 'must be 1-64 letters, digits, _ or -');
export const StreamId = z.string().regex(/^[\w-]{1,64}$/u, 'must be 1-64 letters, digits, _ or -');
export const TcpPort = z.number().int().min(1).max(65535);

export const SharedServer = z.strictObject({
  share_id: ShareId,
  /** What the host called it ("web", "api"). */
  name: z.string().min(1).max(64),
  /** The host's port, for display, and the port a guest's listener tries first. */
  port: TcpPort,
});
export type SharedServer = z.infer<typeof SharedServer>;

/** The host's whole list (empty: it shares none): sent on every change and whenever someone joins. */
export const TunnelSharedPayload = z.strictObject({ servers: z.array(SharedServer).max(TUNNEL_LIMITS.servers) });
export type TunnelSharedPayload = z.infer<typeof TunnelSharedPayload>;

/** From a guest: a new stream to a shared server. */
export const TunnelOpenIn = z.strictObject({ stream_id: StreamId, share_id: ShareId });
export type TunnelOpenIn = z.infer<typeof TunnelOpenIn>;

/** To the host: the same, with the guest connection that opened it. */
export const TunnelOpenOut = TunnelOpenIn.extend({ requester: ConnectionId });
export type TunnelOpenOut = z.infer<typeof TunnelOpenOut>;

/** From the host: the stream's TCP connection is established; to its guest. */
export const TunnelOpenedPayload = z.strictObject({ stream_id: StreamId, requester: ConnectionId });
export type TunnelOpenedPayload = z.infer<typeof TunnelOpenedPayload>;

/** `requester`: from the host, the guest connection the frame is for; from a guest, absent. */
const from = { stream_id: StreamId, requester: ConnectionId.optional() };
/** The relay always names the guest connection of the stream. */
const to = { stream_id: StreamId, requester: ConnectionId };

const Data = Base64.max(MAX_CHUNK_BASE64).min(1);
export const TunnelDataIn = z.strictObject({ ...from, data: Data });
export type TunnelDataIn = z.infer<typeof TunnelDataIn>;
export const TunnelDataOut = z.strictObject({ ...to, data: Data });
export type TunnelDataOut = z.infer<typeof TunnelDataOut>;

/** The reader wrote `bytes` more of the stream to its socket: the sender may send that much more. */
const AckBytes = z.number().int().min(1).max(TUNNEL_LIMITS.windowBytes);
export const TunnelAckIn = z.strictObject({ ...from, bytes: AckBytes });
export type TunnelAckIn = z.infer<typeof TunnelAckIn>;
export const TunnelAckOut = z.strictObject({ ...to, bytes: AckBytes });
export type TunnelAckOut = z.infer<typeof TunnelAckOut>;

/**
 * The stream is over (its socket ended or failed, the share stopped, a limit was hit). Both
 * sides end their socket; a guest sends its own close for every stream it opened, whichever side
 * ended it, which frees the stream's place at the relay.
 */
export const TunnelCloseReason = z.enum(['closed', 'refused', 'error', 'unshared', 'limit', 'protocol']);
export type TunnelCloseReason = z.infer<typeof TunnelCloseReason>;
export const TunnelCloseIn = z.strictObject({ ...from, reason: TunnelCloseReason, message: z.string().max(500).optional() });
export type TunnelCloseIn = z.infer<typeof TunnelCloseIn>;
export const TunnelCloseOut = z.strictObject({ ...to, reason: TunnelCloseReason, message: z.string().max(500).optional() });
export type TunnelCloseOut = z.infer<typeof TunnelCloseOut>;

/** Raw bytes of a base64 text (valid, padded). */
export function base64ByteLength(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}
