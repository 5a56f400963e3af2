import WebSocket from 'ws';
import { createBrowserTransport, type WebSocketLikeConstructor } from '../../../protocol/client/browser-transport';
import { createNodeWsTransport } from '../../../protocol/client/node-ws-transport';
const dom: WebSocketLikeConstructor = globalThis.WebSocket;
createBrowserTransport(WebSocket);
createNodeWsTransport(WebSocket);
void dom;
