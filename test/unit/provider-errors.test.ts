import assert from 'node:assert/strict';
import { classifySmtpError } from '../../activities/channels/email';
import { PermanentSendError } from '../../activities/channels/provider';
import { classifyTwilioError } from '../../activities/channels/sms';

const twilioError = (status: number, code?: number) =>
  Object.assign(new Error(`Twilio says +14155550100 is bad`), { status, code });
const smtpError = (responseCode: number | undefined, command?: string, code?: string) =>
  Object.assign(new Error('550 5.1.1 <ada@example.com>: mailbox unavailable'), { responseCode, command, code });

describe('provider error classification', () => {
  describe('Twilio', () => {
    for (const code of [21211, 21614, 21610]) {
      it(`treats error ${code} as a permanent invalid recipient`, () => {
        const err = classifyTwilioError(twilioError(400, code));
        assert.ok(err instanceof PermanentSendError);
        assert.equal(err.type, 'InvalidRecipient');
        assert.doesNotMatch(err.message, /\+1415/, 'no phone number in the failure message');
      });
    }
    it('treats other 4xx rejections as permanent', () => {
      const err = classifyTwilioError(twilioError(400, 21606));
      assert.ok(err instanceof PermanentSendError);
      assert.equal(err.type, 'ProviderRejected');
    });
    for (const status of [401, 429, 500, 503]) {
      it(`retries HTTP ${status}`, () => {
        assert.ok(!(classifyTwilioError(twilioError(status)) instanceof PermanentSendError));
      });
    }
  });

  describe('SMTP', () => {
    it('treats a refused recipient as a permanent invalid recipient', () => {
      const err = classifySmtpError(smtpError(550, 'RCPT TO'));
      assert.ok(err instanceof PermanentSendError);
      assert.equal(err.type, 'InvalidRecipient');
      assert.doesNotMatch(err.message, /ada@example.com/);
    });
    it('treats other 5xx answers as a permanent rejection', () => {
      const err = classifySmtpError(smtpError(554, 'DATA'));
      assert.ok(err instanceof PermanentSendError);
      assert.equal(err.type, 'ProviderRejected');
    });
    it('retries 4xx answers and connection errors', () => {
      assert.ok(!(classifySmtpError(smtpError(451, 'RCPT TO')) instanceof PermanentSendError));
      assert.ok(!(classifySmtpError(smtpError(undefined, undefined, 'ECONNREFUSED')) instanceof PermanentSendError));
    });
  });
});
