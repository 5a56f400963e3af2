import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAllowedLink, renderMarkdown } from '../../../extension/chat/markdown';
import { findPathRefs } from '../../../extension/chat/path-refs';

describe('chat Markdown', () => {
  it('never lets HTML from a message through: <script>, <img onerror>, inline handlers come out as text', () => {
    const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a>');
    assert.doesNotMatch(html, /<script|<img|<a href="javascript/iu);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/u);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/u);
  });

  it('links only http(s) and mailto: javascript:, data:, vscode: and command: links stay text', () => {
    for (const target of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      'data:text/html,<b>x</b>',
      'vscode://x',
      'command:workbench.action.quit',
      'file:///etc/passwd',
    ]) {
      const html = renderMarkdown(`[click](${target})`);
      assert.doesNotMatch(html, /<a /u, target);
    }
    assert.match(
      renderMarkdown('[docs](https://example.com/a?b=1)'),
      /<a href="https:\/\/example.com\/a\?b=1" class="external-link" rel="noreferrer noopener">docs<\/a>/u,
    );
    assert.match(renderMarkdown('see https://example.com/x'), /<a href="https:\/\/example.com\/x"/u);
    assert.doesNotMatch(renderMarkdown('see example.com'), /<a /u, 'no fuzzy links');
    assert.doesNotMatch(renderMarkdown('![x](https://example.com/a.png)'), /<img/u, 'no images');
    assert.equal(isAllowedLink(' javascript:x'), false);
    assert.equal(isAllowedLink('mailto:a@b.c'), true);
  });

  it('renders the common subset: emphasis, code, lists, quotes, line breaks', () => {
    const html = renderMarkdown('**bold** _it_ `code`\nnext\n\n- a\n- b\n\n> quoted');
    assert.match(html, /<strong>bold<\/strong> <em>it<\/em> <code>code<\/code><br>\nnext/u);
    assert.match(html, /<ul>\n<li>a<\/li>/u);
    assert.match(html, /<blockquote>/u);
  });

  it('highlights fenced code of known languages, escapes the rest, and adds Insert at Cursor and Copy', () => {
    const html = renderMarkdown('```ts\nconst a: number = 1; // <b>\n```');
    assert.match(html, /<div class="code-block" data-language="ts">/u);
    assert.match(html, /data-action="insert"[^>]*>Insert at Cursor<\/button>/u);
    assert.match(html, /data-action="copy"[^>]*>Copy<\/button>/u);
    assert.match(html, /<span class="hljs-keyword">const<\/span>/u);
    assert.match(html, /&lt;b&gt;/u);
    const unknown = renderMarkdown('```nosuchlang\n<script>x</script>\n```');
    assert.match(unknown, /&lt;script&gt;x&lt;\/script&gt;/u);
    assert.doesNotMatch(unknown, /<script>/u);
  });

  it('turns path:line references into links to the shared file (not inside code or links)', () => {
    const html = renderMarkdown('look at src/app.ts:12 and `src/b.ts:3` and lib/x.py:4-9');
    assert.match(html, /<a href="#" class="path-ref" data-path="src\/app.ts" data-line="12" title="Open src\/app.ts at line 12" /u);
    assert.match(html, /rel="noreferrer noopener">src\/app.ts:12<\/a>/u);
    assert.match(html, /<code>src\/b.ts:3<\/code>/u);
    assert.match(html, /data-path="lib\/x.py" data-line="4"[^>]*data-end-line="9"/u);
    assert.doesNotMatch(renderMarkdown('https://host.dev/src/app.ts:12'), /path-ref/u);
  });
});

describe('path:line references', () => {
  it('finds relative paths with a file extension and a line (or a range, or line:column)', () => {
    const refs = (text: string) => findPathRefs(text).map((r) => [r.path, r.line, r.endLine]);
    assert.deepEqual(refs('src/app.ts:12'), [['src/app.ts', 12, undefined]]);
    assert.deepEqual(refs('at ./src/a.b.ts:3:7, then README.md:1-4.'), [
      ['src/a.b.ts', 3, undefined],
      ['README.md', 1, 4],
    ]);
    assert.deepEqual(refs('app.ts:0 /abs/x.ts:3 ../up.ts:2 a/../b.ts:2 http://h/x.ts:1 noext:3 ratio 16:9 12:30'), []);
  });
});
