/**
 * The few globals that every JavaScript runtime we target (Node, browsers, Electron, the VS Code
 * extension host) provides. `protocol/` compiles with `"types": []` so nothing Node- or
 * DOM-specific leaks in; these declarations are the whole of what it may assume.
 */
declare function setTimeout(handler: () => void, ms?: number): unknown;
declare function clearTimeout(handle: unknown): void;
