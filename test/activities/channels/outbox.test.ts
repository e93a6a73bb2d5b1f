/** The development outbox provider: sends kept in PostgreSQL, marked not delivered. */
import assert from 'node:assert/strict';
import { createOutboxProvider } from '../../../activities/channels/outbox';
import type { PostalAddress } from '../../../contract/channels';
import { listOutbox } from '../../../stores/outbox';
import { message } from '../../support/outbound-messages';
import { postgres, unique } from '../../support/resources';

describe('createOutboxProvider', () => {
  it('lists a letter in the outbox under its one-line address', async () => {
    const { db } = await postgres();
    const key = unique('key');
    const postalAddress: PostalAddress = {
      name: 'Grace Hopper',
      lines: ['1 Main St', 'Apt 2'],
      city: 'Arlington',
      region: 'VA',
      postalCode: '22201',
      country: 'us',
    };
    const receipt = await createOutboxProvider(db, 'print').send(
      message({ key, channel: 'print', to: 'Grace Hopper', postalAddress, text: 'Letter body' }),
    );
    assert.equal(receipt.status, 'outbox');
    const item = (await listOutbox(db, { channel: 'print', limit: 1000 })).find((i) => i.messageKey === key);
    assert.equal(item?.recipient, 'Grace Hopper, 1 Main St, Apt 2, Arlington, VA 22201, UNITED STATES');
    assert.equal(item?.body, 'Letter body');
  });
});
