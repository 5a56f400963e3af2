import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';
import { findPathRefs } from './path-refs';

/**
 * Chat Markdown to HTML, in the extension host (the webview only shows what it is posted):
 * CommonMark without raw HTML (`html: false`: `<script>`, `<img onerror>` come out as text), links
 * only to http(s) and mailto (markdown-it's `validateLink`: no `javascript:`, `data:`, `vscode:`,
 * `command:`), bare URLs linkified, `path:line` references as links that open the shared file,
 * fenced code highlighted by highlight.js (a handful of common languages, to keep the bundle small)
 * with Insert at Cursor and Copy. Links are never followed by the webview: it posts them to the
 * extension (see `ChatView`).
 */
const languages = {
  bash,
  c,
  cpp,
  csharp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  markdown,
  python,
  rust,
  shell,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
const aliases: Record<string, string> = {
  ts: 'typescript',
  tsx: 'typescript',
  typescriptreact: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  javascriptreact: 'javascript',
  py: 'python',
  sh: 'bash',
  zsh: 'bash',
  shellscript: 'bash',
  html: 'xml',
  yml: 'yaml',
  md: 'markdown',
  rs: 'rust',
  'c++': 'cpp',
  cs: 'csharp',
  jsonc: 'json',
};

const ALLOWED_LINK = /^(?:https?:\/\/|mailto:)/iu;

/** Whether a link target may be shown as a link (and opened through VS Code's confirmation). */
export function isAllowedLink(url: string): boolean {
  return ALLOWED_LINK.test(url.trim());
}

function escapeHtml(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;');
}

function highlight(code: string, info: string): string {
  const name = info.trim().split(/\s+/u)[0]?.toLowerCase() ?? '';
  const language = aliases[name] ?? name;
  if (language && hljs.getLanguage(language)) {
    try {
      return hljs.highlight(code, { language, ignoreIllegals: true }).value;
    } catch {
      // Falls through to plain text.
    }
  }
  return escapeHtml(code);
}

function createRenderer(): MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false, highlight });
  md.validateLink = isAllowedLink;
  // Linkify's fuzzy matches (`example.com`) stay text: only what the author wrote as a URL is a link.
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
  md.disable(['image']);

  // `path:line` in text (not in code, not inside a link) becomes a link to the shared file.
  md.core.ruler.push('tandem_path_refs', (state) => {
    for (const block of state.tokens) {
      if (block.type !== 'inline' || !block.children) continue;
      const out: Token[] = [];
      let inLink = 0;
      for (const token of block.children) {
        if (token.type === 'link_open') inLink++;
        if (token.type === 'link_close') inLink--;
        const refs = token.type === 'text' && inLink === 0 ? findPathRefs(token.content) : [];
        if (refs.length === 0) {
          out.push(token);
          continue;
        }
        let at = 0;
        const text = (content: string) => {
          const t = new state.Token('text', '', 0);
          t.content = content;
          out.push(t);
        };
        for (const ref of refs) {
          if (ref.start > at) text(token.content.slice(at, ref.start));
          const open = new state.Token('link_open', 'a', 1);
          open.attrs = [
            ['href', '#'],
            ['class', 'path-ref'],
            ['data-path', ref.path],
            ['data-line', String(ref.line)],
            ['title', `Open ${ref.path} at line ${ref.line}`],
          ];
          if (ref.endLine !== undefined) open.attrs.push(['data-end-line', String(ref.endLine)]);
          out.push(open);
          text(token.content.slice(ref.start, ref.end));
          out.push(new state.Token('link_close', 'a', -1));
          at = ref.end;
        }
        if (at < token.content.length) text(token.content.slice(at));
      }
      block.children = out;
    }
  });

  // Fenced code: highlighted, with Insert at Cursor and Copy (the webview reads the code from the block).
  const fence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, index, options, env, self) => {
    const info = tokens[index]!.info.trim().split(/\s+/u)[0] ?? '';
    return (
      `<div class="code-block"${info ? ` data-language="${escapeHtml(info)}"` : ''}>` +
      '<div class="code-actions">' +
      '<button type="button" class="code-action" data-action="insert" title="Insert at the cursor of the last active editor">' +
      'Insert at Cursor</button>' +
      '<button type="button" class="code-action" data-action="copy" title="Copy the code">Copy</button>' +
      '</div>' +
      fence(tokens, index, options, env, self) +
      '</div>'
    );
  };
  // Links: never a target, no referrer; the webview posts the href to the extension on click.
  md.renderer.rules.link_open = (tokens, index, options, _env, self) => {
    const token = tokens[index]!;
    if (!token.attrGet('data-path')) token.attrSet('class', 'external-link');
    token.attrSet('rel', 'noreferrer noopener');
    return self.renderToken(tokens, index, options);
  };
  return md;
}

const renderer = createRenderer();

/** The HTML of one chat message or AI answer (Markdown subset, no raw HTML, safe links). */
export function renderMarkdown(text: string): string {
  return renderer.render(text);
}
