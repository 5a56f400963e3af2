import { z } from 'zod';
import { ConnectionId } from './common';
import { RequestId, WorkspacePath } from './workspace';

/**
 * Language features of the host's VS Code, for the files of its shared folder: a guest's
 * `language.request` goes to the host's connection with the `requester` added, and the host's
 * `language.response` comes back to that connection only (the routing of `workspace.request`).
 * The host answers with its own language services, so a guest needs none installed. Every answer
 * fits one frame: the host caps the lists (`incomplete: true` when it cut one) and leaves out
 * whatever points into a file it does not share (`not_shared` counts them).
 *
 * Positions are VS Code's: zero-based line and UTF-16 character, in the shared document's text,
 * which the guest's copy equals (OT keeps them converged).
 */

const Count = z.number().int().nonnegative().max(1_000_000);

export const Position = z.strictObject({ line: Count, character: Count });
export type Position = z.infer<typeof Position>;

export const Range = z.strictObject({ start: Position, end: Position });
export type Range = z.infer<typeof Range>;

/** Bounded texts: a hover or a completion's documentation is Markdown, never HTML the guest runs. */
const Text = z.string().max(16_384);
const Label = z.string().max(1024);

/** The longest lists an answer carries (the host cuts there, and to fit a frame). */
export const LANGUAGE_LIMITS = {
  completionItems: 200,
  locations: 500,
  symbols: 1000,
  diagnosticsPerFile: 500,
  signatures: 20,
} as const;

const at = { path: WorkspacePath, position: Position };

export const LanguageOp = z.enum([
  'hover',
  'completion',
  'signatureHelp',
  'definition',
  'references',
  'implementation',
  'documentSymbols',
  'diagnostics',
  'cancel',
]);
export type LanguageOp = z.infer<typeof LanguageOp>;

function requestVariants<Extra extends z.ZodRawShape>(extra: Extra) {
  const variant = <Op extends LanguageOp, Shape extends z.ZodRawShape>(op: Op, shape: Shape) =>
    z.strictObject({ request_id: RequestId, op: z.literal(op), ...shape, ...extra });
  return z.discriminatedUnion('op', [
    variant('hover', at),
    variant('completion', { ...at, trigger_character: z.string().min(1).max(8).optional() }),
    variant('signatureHelp', { ...at, trigger_character: z.string().min(1).max(8).optional() }),
    variant('definition', at),
    variant('references', at),
    variant('implementation', at),
    variant('documentSymbols', { path: WorkspacePath }),
    /** The host's current diagnostics of every shared file (as many files as fit one answer). */
    variant('diagnostics', {}),
    /** The guest moved on: the host drops the request `request_id` names and sends no answer for it. */
    variant('cancel', {}),
  ]);
}

/** From a guest (any role: these are reads). */
export const LanguageRequestIn = requestVariants({});
export type LanguageRequestIn = z.infer<typeof LanguageRequestIn>;

/** To the host: the request with the connection that asked, which the response must name. */
export const LanguageRequestOut = requestVariants({ requester: ConnectionId });
export type LanguageRequestOut = z.infer<typeof LanguageRequestOut>;

/** A place in a shared file. */
export const SharedLocation = z.strictObject({
  path: WorkspacePath,
  range: Range,
  /** A `LocationLink`'s range of the symbol itself inside `range`. */
  selection_range: Range.optional(),
  /** A `LocationLink`'s range in the asking document that the link is for (the word under the cursor). */
  origin_range: Range.optional(),
});
export type SharedLocation = z.infer<typeof SharedLocation>;

export const HoverResult = z.strictObject({
  kind: z.literal('hover'),
  /** Markdown, one piece per part of the hover. */
  contents: z.array(Text).max(20),
  range: Range.optional(),
});

export const CompletionItem = z.strictObject({
  label: Label,
  /** `vscode.CompletionItemKind`. */
  item_kind: z.number().int().min(0).max(100).optional(),
  detail: Label.optional(),
  documentation: Text.optional(),
  insert_text: Text.optional(),
  /** `insert_text` is a snippet (`$1`, `${2:name}`). */
  snippet: z.boolean().optional(),
  filter_text: Label.optional(),
  sort_text: Label.optional(),
  preselect: z.boolean().optional(),
  range: Range.optional(),
});
export type CompletionItem = z.infer<typeof CompletionItem>;

export const CompletionResult = z.strictObject({
  kind: z.literal('completion'),
  items: z.array(CompletionItem).max(LANGUAGE_LIMITS.completionItems),
  /** Typing more should ask again (the list was cut, or the provider said so). */
  incomplete: z.boolean(),
});

export const SignatureHelpResult = z.strictObject({
  kind: z.literal('signatureHelp'),
  signatures: z
    .array(
      z.strictObject({
        label: Text,
        documentation: Text.optional(),
        parameters: z
          .array(
            z.strictObject({
              /** The text, or where it is in the signature's label (UTF-16 offsets). */
              label: z.union([Label, z.strictObject({ start: Count, end: Count })]),
              documentation: Text.optional(),
            }),
          )
          .max(100),
        active_parameter: Count.optional(),
      }),
    )
    .max(LANGUAGE_LIMITS.signatures),
  active_signature: Count,
  active_parameter: Count,
});

export const LocationsResult = z.strictObject({
  kind: z.literal('locations'),
  locations: z.array(SharedLocation).max(LANGUAGE_LIMITS.locations),
  /** Results left out because they point at files the host does not share. */
  not_shared: Count,
  incomplete: z.boolean(),
});

/** A document symbol; the tree travels flat, each symbol naming its parent's index (before it). */
export const SymbolEntry = z.strictObject({
  name: Label,
  detail: Label.optional(),
  /** `vscode.SymbolKind`. */
  symbol_kind: z.number().int().min(0).max(100),
  range: Range,
  selection_range: Range,
  parent: Count.optional(),
});
export type SymbolEntry = z.infer<typeof SymbolEntry>;

export const SymbolsResult = z.strictObject({
  kind: z.literal('symbols'),
  symbols: z.array(SymbolEntry).max(LANGUAGE_LIMITS.symbols),
  incomplete: z.boolean(),
});

export const Diagnostic = z.strictObject({
  range: Range,
  message: Text,
  /** `vscode.DiagnosticSeverity`: 0 error, 1 warning, 2 information, 3 hint. */
  severity: z.number().int().min(0).max(3),
  source: Label.optional(),
  code: z.union([Label, z.number()]).optional(),
});
export type Diagnostic = z.infer<typeof Diagnostic>;

/** A file's diagnostics, all of them (an empty list clears the file's). */
export const FileDiagnostics = z.strictObject({
  path: WorkspacePath,
  diagnostics: z.array(Diagnostic).max(LANGUAGE_LIMITS.diagnosticsPerFile),
});
export type FileDiagnostics = z.infer<typeof FileDiagnostics>;

export const DiagnosticsResult = z.strictObject({
  kind: z.literal('diagnostics'),
  files: z.array(FileDiagnostics).max(1000),
  /** Some files did not fit: they come with their next change. */
  incomplete: z.boolean(),
});

export const LanguageResult = z.discriminatedUnion('kind', [
  HoverResult,
  CompletionResult,
  SignatureHelpResult,
  LocationsResult,
  SymbolsResult,
  DiagnosticsResult,
  /** Nothing to say here (no hover, no signature). */
  z.strictObject({ kind: z.literal('none') }),
]);
export type LanguageResult = z.infer<typeof LanguageResult>;

export const LanguageErrorCode = z.enum(['NotShared', 'Unavailable', 'Timeout', 'Busy']);
export type LanguageErrorCode = z.infer<typeof LanguageErrorCode>;

const responseHead = { request_id: RequestId, requester: ConnectionId };

/** From the host, and as delivered to the requester. */
export const LanguageResponse = z.discriminatedUnion('ok', [
  z.strictObject({ ...responseHead, ok: z.literal(true), result: LanguageResult }),
  z.strictObject({
    ...responseHead,
    ok: z.literal(false),
    error: z.strictObject({ code: LanguageErrorCode, message: z.string().max(2000) }),
  }),
]);
export type LanguageResponse = z.infer<typeof LanguageResponse>;

/** The host's diagnostics changed for these shared files: to everyone else in the session. */
export const LanguageDiagnosticsPayload = z.strictObject({ files: z.array(FileDiagnostics).min(1).max(1000) });
export type LanguageDiagnosticsPayload = z.infer<typeof LanguageDiagnosticsPayload>;
