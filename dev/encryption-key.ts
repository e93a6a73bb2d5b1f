/**
 * The embedded stack's payload encryption key: created in the data folder on first start (readable by its
 * owner only), so histories are encrypted by default, and read again on every later start.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type EncryptionKey, parseEncryptionKeys } from '../runtime/config';

/** The file, in PAYLOAD_ENCRYPTION_KEYS format (`id=base64key`). */
export const KEY_FILE = 'payload-encryption.key';

/** The key in `dataDir`, created when there is none; `created` says which. */
export async function developmentEncryptionKey(dataDir: string): Promise<{ key: EncryptionKey; created: boolean }> {
  const file = path.join(dataDir, KEY_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    const problems: string[] = [];
    const [key] = parseEncryptionKeys(text.trim(), problems);
    if (!key || problems.length > 0)
      throw new Error(`${file} is not a key file (id=base64key): ${problems.join('; ')}`);
    return { key, created: false };
  }
  const key = { id: `dev-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`, key: randomBytes(32) };
  await writeFile(file, `${key.id}=${key.key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}
