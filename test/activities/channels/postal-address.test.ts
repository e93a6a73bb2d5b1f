import assert from 'node:assert/strict';
import { formatPostalAddress, postalAddressLines } from '../../../activities/channels/postal-address';

describe('postalAddressLines and formatPostalAddress', () => {
  const base = { name: ' Ada Lovelace ', lines: ['12 Long Lane', ''], city: 'London', postalCode: 'N1 7AA' };
  it("writes the city line in the country's order", () => {
    assert.deepEqual(postalAddressLines({ ...base, country: 'GB' }), [
      'Ada Lovelace',
      '12 Long Lane',
      'London',
      'N1 7AA',
      'UNITED KINGDOM',
    ]);
    assert.equal(
      formatPostalAddress({ ...base, city: 'Paris', postalCode: '75001', country: 'FR' }),
      'Ada Lovelace, 12 Long Lane, 75001 Paris, FRANCE',
    );
    assert.equal(
      formatPostalAddress({ ...base, city: 'Toronto', region: 'ON', postalCode: 'M5V 2T6', country: 'CA' }),
      'Ada Lovelace, 12 Long Lane, Toronto, ON M5V 2T6, CANADA',
    );
  });
});
