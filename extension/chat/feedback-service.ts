import * as vscode from 'vscode';
import type { FeedbackRating, FeedbackSubject } from '../../protocol';
import { settings } from '../config';
import type { Log } from '../log';
import type { PersonalTokenStore } from '../session/personal-token';
import { relayApi } from '../session/relay-api';
import type { SessionController } from '../session/session-controller';
import type { Notifier } from '../ui/notifier';
import { checkComment, feedbackBody, ratingChoices, subjectChoices } from './feedback';

/**
 * The questions feedback asks (a quick pick, an input box): replaceable, so that a suite can
 * answer them (`TandemApi.feedback.prompts`); undefined means the user dismissed it.
 */
export interface FeedbackPrompts {
  rating(): Thenable<FeedbackRating | undefined>;
  subject(choices: ReturnType<typeof subjectChoices>): Thenable<FeedbackSubject | undefined>;
  /** The optional comment: '' or undefined sends none. */
  comment(prompt: string): Thenable<string | undefined>;
}

export const vscodePrompts: FeedbackPrompts = {
  rating: async () =>
    (await vscode.window.showQuickPick(ratingChoices, { title: 'Tandem: Send Feedback (1/3)', placeHolder: 'How is it going?' }))?.rating,
  subject: async (choices) =>
    choices.length === 1
      ? choices[0]!.about
      : (await vscode.window.showQuickPick(choices, { title: 'Tandem: Send Feedback (2/3)', placeHolder: 'About what?' }))?.about,
  comment: (prompt) =>
    vscode.window.showInputBox({
      title: 'Tandem: Feedback',
      prompt,
      placeHolder: 'Optional: Enter sends without one',
      ignoreFocusOut: true,
      validateInput: checkComment,
    }),
};

/** An AI answer's feedback: being sent, or sent (the chat shows "Thanks"). */
export type AnswerFeedback = { rating: 'up' | 'down'; state: 'sending' | 'sent' };

/**
 * Feedback to the relay's `POST /api/feedback`: "Was this helpful?" on AI answers in the chat,
 * and the Send Feedback command. A session token in a session (about its session, its answers or
 * the product), else the personal token for `tandem.relayUrl`. Problems show as a warning with
 * the relay's message.
 */
export class FeedbackService implements vscode.Disposable {
  prompts: FeedbackPrompts = vscodePrompts;
  private readonly answers = new Map<string, AnswerFeedback>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** An answer's feedback changed. */
  readonly onDidChange = this.changed.event;
  private readonly sent = new vscode.EventEmitter<{ id: string; body: unknown }>();
  /** Feedback the relay accepted (its stream entry id), for tests. */
  readonly onDidSend = this.sent.event;

  constructor(
    private readonly session: SessionController,
    private readonly personalTokens: PersonalTokenStore,
    private readonly notifier: Notifier,
    private readonly log: Log,
  ) {}

  /** The feedback given on an AI answer (by its request id) in this window. */
  forAnswer(requestId: string): AnswerFeedback | undefined {
    return this.answers.get(requestId);
  }

  /** Thumbs up or down on an AI answer of the current session, then an optional comment. */
  async rateAnswer(requestId: string, rating: 'up' | 'down'): Promise<string | undefined> {
    const info = this.session.info;
    if (!info) return this.warn('not in a session: AI answers get feedback only during one');
    if (this.answers.has(requestId)) return undefined;
    this.setAnswer(requestId, { rating, state: 'sending' });
    const comment = await this.prompts.comment(
      rating === 'up' ? 'Thanks! What made this answer helpful? (optional)' : 'Sorry about that. What was wrong or missing? (optional)',
    );
    const id = await this.send(rating, { kind: 'ai_answer', session_id: info.sessionId, request_id: requestId }, comment);
    if (id) this.setAnswer(requestId, { rating, state: 'sent' });
    else this.setAnswer(requestId, undefined);
    return id;
  }

  /** Tandem: Send Feedback: stars or a thumb, about the product or the current session, an optional comment. */
  async command(): Promise<string | undefined> {
    const rating = await this.prompts.rating();
    if (rating === undefined) return undefined;
    const info = this.session.isActive ? this.session.info : undefined;
    const about = await this.prompts.subject(subjectChoices(info?.sessionId));
    if (!about) return undefined;
    const comment = await this.prompts.comment('Anything to add? (optional)');
    if (comment === undefined) return undefined;
    const id = await this.send(rating, about, comment);
    if (id) this.notifier.show('info', 'Tandem: thanks for the feedback!');
    return id;
  }

  /** Checks and posts feedback; the relay's entry id, or undefined once a warning said why not. */
  async send(rating: FeedbackRating, about: FeedbackSubject, comment?: string): Promise<string | undefined> {
    const checked = feedbackBody(rating, about, comment);
    if (!checked.ok) return this.warn(checked.message);
    const info = this.session.info;
    const inSession = info && (about.kind === 'product' || about.session_id === info.sessionId);
    const relayUrl = inSession ? info.relayUrl : settings().relayUrl;
    const token = inSession ? info.token : await this.personalTokens.get(relayUrl);
    if (!token) return this.warn(`no token for ${relayUrl}: join a session or set a personal token (Tandem: Set Personal Token)`);
    try {
      const { id } = await relayApi.sendFeedback(relayUrl, token, checked.body);
      this.log.info(`feedback ${id} sent (${checked.body.about.kind}, ${String(checked.body.rating)})`);
      this.sent.fire({ id, body: checked.body });
      return id;
    } catch (error) {
      const code = (error as { code?: string }).code;
      return this.warn(`${error instanceof Error ? error.message : String(error)}${code ? ` (${code})` : ''}`);
    }
  }

  private setAnswer(requestId: string, feedback: AnswerFeedback | undefined): void {
    if (feedback) this.answers.set(requestId, feedback);
    else this.answers.delete(requestId);
    this.changed.fire();
  }

  private warn(message: string): undefined {
    this.log.warn(`feedback: ${message}`);
    this.notifier.show('warning', `Tandem: feedback not sent: ${message}`);
    return undefined;
  }

  dispose(): void {
    this.changed.dispose();
    this.sent.dispose();
  }
}
