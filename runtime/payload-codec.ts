/**
 * Encryption of everything the service puts into Temporal (workflow inputs and results, activity
 * arguments, signals, query answers, summaries): AES-256-GCM per payload, the key named by its id in the
 * payload's metadata so keys can rotate (the first key encrypts, every configured key decrypts). Payloads
 * that are not encrypted pass through on decode: histories recorded before encryption, and every
 * committed replay fixture, keep working.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type DataConverter, METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { EncryptionKey } from './config';

/** The `encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';

/** The metadata key naming the key that encrypted a payload. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const text = (value: string) => Buffer.from(value, 'utf8');

/** Thrown when an encrypted payload names a key this process does not have, or fails authentication. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

/** The codec. Without keys it encodes nothing and only passes payloads through. */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly EncryptionKey[]) {
    this.byId = new Map(keys.map((key) => [key.id, key.key]));
  }

  /** True when payloads are encrypted. */
  get encrypts(): boolean {
    return this.keys.length > 0;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the codec interface is asynchronous
  async encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.keys[0];
    if (!current) return payloads;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: text(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text(current.id) },
        data: sealed,
      };
    });
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the codec interface is asynchronous
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString('utf8') !== ENCRYPTED_ENCODING) return payload;
      const id = Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? []).toString('utf8');
      const key = this.byId.get(id);
      if (!key) throw new PayloadDecryptionError(`No encryption key '${id}' is configured (PAYLOAD_ENCRYPTION_KEYS)`);
      const sealed = Buffer.from(payload.data ?? []);
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('Encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new PayloadDecryptionError(`Encrypted payload does not authenticate with key '${id}'`);
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The data converter of every client and worker of the service. */
export function dataConverter(keys: readonly EncryptionKey[]): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)] };
}
