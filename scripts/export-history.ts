/**
 * `npm run export-history -- <workflowId> <file.json> [runId]`: writes a run's event history as JSON,
 * ready to commit under test/replay/histories/ as a replay fixture. Connects to TEMPORAL_ADDRESS
 * (default 127.0.0.1:7233) and TEMPORAL_NAMESPACE.
 */
import { writeFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../runtime/config';
import { historyToJson } from '../runtime/temporal-history';

async function main(): Promise<void> {
  const [workflowId, file, runId] = process.argv.slice(2);
  if (!workflowId || !file) {
    console.error('usage: npm run export-history -- <workflowId> <file.json> [runId]');
    process.exit(2);
  }
  const config = loadConfig();
  const connection = await Connection.connect({
    address: config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`,
  });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    await writeFile(file, historyToJson(history));
    console.log(`wrote ${history.events?.length ?? 0} events of ${workflowId} to ${file}`);
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
