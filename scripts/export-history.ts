/**
 * `npm run export-history -- <workflowId> <file.json> [runId] [--keep-encrypted]`: writes a run's event
 * history as JSON, ready to commit under test/replay/histories/ as a replay fixture. The same export as
 * `journeys export-history` (cli/history.ts): TEMPORAL_ADDRESS (default 127.0.0.1:7233) and TEMPORAL_NAMESPACE;
 * encrypted payloads are decrypted with PAYLOAD_ENCRYPTION_KEYS (else the embedded stack's key in DATA_DIR), so
 * the fixture replays anywhere; the file then holds the payloads' plaintext. `--keep-encrypted` writes them as
 * stored.
 */
import { writeFile } from 'node:fs/promises';
import { exportHistory } from '../cli/history';
import { loadConfig } from '../runtime/config';
import { historyToJson } from '../runtime/temporal-history';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const keepEncrypted = args.includes('--keep-encrypted');
  const [workflowId, file, runId] = args.filter((arg) => !arg.startsWith('--'));
  if (!workflowId || !file) {
    console.error('usage: npm run export-history -- <workflowId> <file.json> [runId] [--keep-encrypted]');
    process.exit(2);
  }
  const history = await exportHistory(loadConfig(), workflowId, { runId, keepEncrypted });
  await writeFile(file, historyToJson(history));
  console.log(
    `wrote ${history.events?.length ?? 0} events of ${workflowId} to ${file}` +
      (keepEncrypted ? ' (payloads as stored)' : ' (payloads decoded: the file holds their plaintext)'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
