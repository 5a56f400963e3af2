import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkComment, feedbackBody, ratingChoices, subjectChoices } from '../../../extension/chat/feedback';

const answer = { kind: 'ai_answer', session_id: 'sess-1', request_id: 'req-1' } as const;

describe('feedbackBody', () => {
  it('builds the POST /api/feedback body: a thumb on an AI answer, a trimmed comment, none when blank', () => {
    assert.deepEqual(feedbackBody('up', answer), { ok: true, body: { rating: 'up', about: answer } });
    assert.deepEqual(feedbackBody('down', answer, '  too vague \n'), {
      ok: true,
      body: { rating: 'down', about: answer, comment: 'too vague' },
    });
    assert.deepEqual(feedbackBody(4, { kind: 'product' }, '   '), { ok: true, body: { rating: 4, about: { kind: 'product' } } });
  });

  it('refuses what the relay would: a rating out of 1-5, a long comment, a malformed subject', () => {
    const zero = feedbackBody(0, { kind: 'product' });
    assert.equal(zero.ok, false);
    assert.match(!zero.ok ? zero.message : '', /rating/u);
    const long = feedbackBody('up', { kind: 'product' }, 'x'.repeat(2001));
    assert.deepEqual(long, { ok: false, message: 'the comment is too long (2001 characters; at most 2000)' });
    assert.equal(feedbackBody('up', { kind: 'session', session_id: '' }).ok, false);
  });

  it('the command offers five stars and two thumbs; the session only while in one', () => {
    assert.deepEqual(
      ratingChoices.map((c) => c.rating),
      [5, 4, 3, 2, 1, 'up', 'down'],
    );
    assert.deepEqual(
      subjectChoices(undefined).map((c) => c.about),
      [{ kind: 'product' }],
    );
    assert.deepEqual(
      subjectChoices('sess-1').map((c) => c.about),
      [{ kind: 'session', session_id: 'sess-1' }, { kind: 'product' }],
    );
    assert.equal(checkComment('fine'), undefined);
    assert.match(checkComment('y'.repeat(2001))!, /At most 2000/u);
  });
});
