import type { AiContext, AiRequestIn } from '../../protocol';
import type { ModelMessage } from './model-client';

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful programming assistant answering a question asked during a pair-programming session. ' +
  'Be concise and precise; use Markdown, with fenced code blocks for code.';

/** What counts against AI_MAX_PROMPT_CHARS: the prompt and the selection (file names and the like are bounded by the schema). */
export function promptChars(request: AiRequestIn): number {
  return request.prompt.length + (request.context?.selection?.length ?? 0);
}

/**
 * The messages sent to the model: the system prompt, then one user message with the context (where
 * the selection is from, and the selection as a fenced code block tagged with its language) and
 * the question.
 */
export function buildMessages(request: AiRequestIn, systemPrompt: string = DEFAULT_SYSTEM_PROMPT): ModelMessage[] {
  const context = request.context ? describeContext(request.context) : '';
  return [
    { role: 'system', content: systemPrompt },
    { role: 'user', content: context ? `${context}\n\n${request.prompt}` : request.prompt },
  ];
}

function describeContext(context: AiContext): string {
  const parts: string[] = [];
  const where = [context.file && `File: ${context.file}`, lineRange(context)].filter(Boolean).join(', ');
  if (where) parts.push(where);
  if (context.selection !== undefined && context.selection !== '') {
    const fence = fenceFor(context.selection);
    parts.push(`${fence}${context.language ?? ''}\n${context.selection}${context.selection.endsWith('\n') ? '' : '\n'}${fence}`);
  } else if (context.language && !context.file) {
    parts.push(`Language: ${context.language}`);
  }
  return parts.join('\n');
}

function lineRange({ line_start: start, line_end: end }: AiContext): string {
  if (start === undefined) return end === undefined ? '' : `line ${end}`;
  return end === undefined || end === start ? `line ${start}` : `lines ${start}-${end}`;
}

/** A fence longer than any run of backticks in the text, so the text cannot close it. */
export function fenceFor(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}
