/**
 * Workflow histories as JSON, in the format the Temporal CLI and Web UI export and `Worker.runReplayHistory`
 * reads: how a production run becomes a replay fixture (`npm run export-history`).
 */
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
