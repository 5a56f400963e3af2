/** A Lua script's text: esbuild's `text` loader in the bundles, scripts/lua-loader.mjs under tsx. */
declare module '*.lua' {
  const source: string;
  export default source;
}
