/** Messages for the channel provider tests, and the failure a send must end in. */
import assert from 'node:assert/strict';
import type { OutboundMessage } from '../../activities/channels/provider';
import { unique } from './resources';

/** An email to nobody with a unique key, with `overrides`. */
export const message = (overrides: Partial<OutboundMessage>): OutboundMessage => ({
  key: unique('key'),
  channel: 'email',
  to: 'nobody@example.com',
  text: 'Hello',
  ...overrides,
});

/** The rejection of `promise`, which must fail. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the send to fail');
}
