/** The typed relay client. Portable: the WebSocket implementation comes in through a transport. */
export * from './auth-error';
export * from './backoff';
export * from './browser-transport';
export * from './chat-outbox';
export * from './debug-state';
export * from './emitter';
export * from './heartbeat';
export * from './open-frames';
export * from './refused-edit';
export * from './node-ws-transport';
export * from './relay-client';
export * from './session-log';
export * from './snapshot-pieces';
export * from './transport';
export * from './url';
