/** How Twilio's errors become permanent or retryable send failures. */
import assert from 'node:assert/strict';
import { PermanentSendError } from '../../../activities/channels/provider';
import { classifyTwilioError } from '../../../activities/channels/twilio-client';

const twilioError = (status: number, code?: number) =>
  Object.assign(new Error(`Twilio says +14155550100 is bad`), { status, code });

describe('classifyTwilioError', () => {
  for (const code of [21211, 21614, 21217, 13224]) {
    it(`treats error ${code} as a permanent invalid recipient`, () => {
      const err = classifyTwilioError(twilioError(400, code));
      assert.ok(err instanceof PermanentSendError);
      assert.equal(err.type, 'InvalidRecipient');
      assert.doesNotMatch(err.message, /\+1415/, 'no phone number in the failure message');
    });
  }
  it('treats error 21610 (the recipient replied STOP) as a permanent opt-out', () => {
    const err = classifyTwilioError(twilioError(400, 21610));
    assert.ok(err instanceof PermanentSendError);
    assert.equal(err.type, 'OptedOut');
    assert.doesNotMatch(err.message, /\+1415/, 'no phone number in the failure message');
  });
  it('treats other 4xx rejections as permanent', () => {
    const err = classifyTwilioError(twilioError(400, 21606));
    assert.ok(err instanceof PermanentSendError);
    assert.equal(err.type, 'ProviderRejected');
  });
  for (const [status, code] of [
    [401, 20003],
    [429, 20429],
    [500, 20500],
    [503, 20500],
  ] as const) {
    it(`retries HTTP ${status}, without the text of Twilio's answer`, () => {
      const err = classifyTwilioError(twilioError(status, code));
      assert.ok(!(err instanceof PermanentSendError));
      assert.match(err.message, new RegExp(`HTTP ${status}`));
      assert.doesNotMatch(err.message, /\+1415/);
    });
  }
  it('retries network errors as they are', () => {
    const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.equal(classifyTwilioError(network as unknown as Error), network);
  });
});
