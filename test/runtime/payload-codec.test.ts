import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseEncryptionKeys } from '../../runtime/config';
import { EncryptionCodec, ENCRYPTED_ENCODING, PayloadDecryptionError } from '../../runtime/payload-codec';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('EncryptionCodec', () => {
  const marker = { name: 'Ada Lovelace', card: '4111 1111 1111 1111' };
  const plain = defaultPayloadConverter.toPayload(marker);

  it('encrypts with the first key: no plaintext left, the key id in the metadata, and it decodes back', async () => {
    const codec = new EncryptionCodec([key('k2'), key('k1')]);
    const [sealed] = await codec.encode([plain]);
    assert.equal(Buffer.from(sealed!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString(), 'k2');
    assert.ok(!Buffer.from(sealed!.data!).includes('Lovelace'));
    assert.ok(!Buffer.from(sealed!.data!).includes('4111'));
    const [opened] = await codec.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), marker);
  });

  it('decodes with any configured key after rotation, and refuses a key it does not have', async () => {
    const old = key('old');
    const [sealedWithOld] = await new EncryptionCodec([old]).encode([plain]);
    const rotated = new EncryptionCodec([key('new'), old]);
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([sealedWithOld!]))[0]!), marker);
    await assert.rejects(new EncryptionCodec([key('new')]).decode([sealedWithOld!]), PayloadDecryptionError);
  });

  it('refuses a payload that was tampered with', async () => {
    const codec = new EncryptionCodec([key('k')]);
    const [sealed] = await codec.encode([plain]);
    const data = Buffer.from(sealed!.data!);
    data[20] = (data[20] ?? 0) ^ 1;
    await assert.rejects(codec.decode([{ ...sealed!, data }]), /does not authenticate/);
  });

  it('passes unencrypted payloads through (old histories, committed fixtures), and encrypts nothing without keys', async () => {
    assert.deepEqual(await new EncryptionCodec([key('k')]).decode([plain]), [plain]);
    assert.deepEqual(await new EncryptionCodec([]).encode([plain]), [plain]);
  });

  it('reads PAYLOAD_ENCRYPTION_KEYS and names bad entries', () => {
    const good = randomBytes(32).toString('base64');
    const problems: string[] = [];
    const keys = parseEncryptionKeys(
      `2026-12=${good}, short=${randomBytes(16).toString('base64')}, =${good}`,
      problems,
    );
    assert.deepEqual(
      keys.map((k) => k.id),
      ['2026-12'],
    );
    assert.equal(problems.length, 2);
  });
});
