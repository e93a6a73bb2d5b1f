/**
 * `npm run export-history -- <workflowId> <file.json> [runId] [--keep-encrypted]`: writes a run's event
 * history as JSON, ready to commit under test/replay/histories/ as a replay fixture. Connects to
 * TEMPORAL_ADDRESS (default 127.0.0.1:7233) and TEMPORAL_NAMESPACE. Encrypted payloads are decrypted with
 * PAYLOAD_ENCRYPTION_KEYS (else the embedded stack's key in DATA_DIR), so the fixture replays anywhere;
 * the file then holds the payloads' plaintext. `--keep-encrypted` writes them as stored.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { developmentEncryptionKey, KEY_FILE } from '../dev/encryption-key';
import { loadConfig } from '../runtime/config';
import { EncryptionCodec } from '../runtime/payload-codec';
import { decodeHistory, historyToJson } from '../runtime/temporal-history';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keepEncrypted = args.includes('--keep-encrypted');
  const [workflowId, file, runId] = args.filter((arg) => !arg.startsWith('--'));
  if (!workflowId || !file) {
    console.error('usage: npm run export-history -- <workflowId> <file.json> [runId] [--keep-encrypted]');
    process.exit(2);
  }
  const config = loadConfig();
  let keys = config.encryption.keys;
  if (keys.length === 0 && existsSync(path.join(config.dataDir, KEY_FILE))) {
    keys = [(await developmentEncryptionKey(config.dataDir)).key];
  }
  const connection = await Connection.connect({
    address: config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`,
  });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const stored = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const history = keepEncrypted ? stored : await decodeHistory(stored, new EncryptionCodec(keys));
    await writeFile(file, historyToJson(history));
    console.log(
      `wrote ${history.events?.length ?? 0} events of ${workflowId} to ${file}` +
        (keepEncrypted ? ' (payloads as stored)' : ' (payloads decoded: the file holds their plaintext)'),
    );
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
