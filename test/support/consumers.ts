/** Consumers for tests: created in the store under a unique id, with random phone numbers. */
import type { Db } from '../../runtime/db';
import { type ConsumerPatch, upsertConsumer } from '../../stores/consumers';
import { unique } from './resources';

/** A random US number in E.164 (never one of Twilio's magic test numbers). */
export const randomPhone = (): string => `+1415${Math.floor(1e6 + Math.random() * 8e6)}`;

/** Creates a consumer with `patch` under a unique id; returns the id. */
export async function newConsumerId(db: Db, patch: ConsumerPatch = {}): Promise<string> {
  const id = unique('c');
  await upsertConsumer(db, id, patch);
  return id;
}
