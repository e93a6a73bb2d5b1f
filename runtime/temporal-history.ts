/**
 * Workflow histories as JSON, in the format the Temporal CLI and Web UI export and `Worker.runReplayHistory`
 * reads: how a production run becomes a replay fixture (`npm run export-history`).
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Type } from 'protobufjs';
import { toJson } from 'protobufjs/ext/protojson';

/** A workflow history as the client returns it (`handle.fetchHistory()`). */
export type History = temporal.api.history.v1.IHistory;

const historyType = temporal.api.history.v1.History as unknown as Type;

/** The history as ProtoJSON text (enum names, int64 as strings, bytes as base64), indented. */
export function historyToJson(history: History): string {
  return JSON.stringify(toJson(historyType, temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** A payload as it appears inside a history: metadata (with its `encoding`) and data. */
interface PayloadLike {
  metadata?: Record<string, Uint8Array | null> | null;
  data?: Uint8Array | null;
}

const isPayload = (value: unknown): value is PayloadLike => {
  const metadata = (value as PayloadLike | null)?.metadata;
  return typeof metadata === 'object' && metadata !== null && metadata.encoding instanceof Uint8Array;
};

/**
 * A copy of `history` with every payload decoded by `codec` (an encrypted export made readable and
 * replayable without the keys). The copy holds the payloads' plaintext.
 */
export async function decodeHistory(history: History, codec: PayloadCodec): Promise<History> {
  const visit = async (value: unknown): Promise<unknown> => {
    if (isPayload(value)) {
      const [decoded] = await codec.decode([value as Payload]);
      return decoded;
    }
    if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return Promise.all(value.map(visit));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = await visit(item);
    return copy;
  };
  return (await visit(history)) as History;
}
