/**
 * The consumers of a simulation: real ones read once from PostgreSQL (consumer, preferences, suppressions; never
 * written), or synthetic ones drawn from the request's distributions. The simulation's activities serve them from
 * memory, so a run changes nothing outside the simulation (an update-profile step changes the copy).
 */
import type { Channel } from '../../contract/channels';
import type { Db } from '../../runtime/db';
import { type Consumer, getConsumer } from '../../stores/consumers';
import { defaultPreferences, getPreferences, type Preferences } from '../../stores/preferences';
import { type SuppressionReason, suppressedChannels } from '../../stores/suppressions';
import type { SimulationSample, SyntheticSample } from './request';
import { pick, uniform } from './random';

/** One sampled consumer as the simulation's activities see it. */
export interface SimulatedConsumer {
  consumer: Consumer;
  preferences: Preferences;
  suppressed: Map<Channel, SuppressionReason>;
}

/** The sample: consumers by id, and the ids asked for that do not exist (their runs fail as in production). */
export interface Population {
  ids: string[];
  consumers: Map<string, SimulatedConsumer>;
  synthetic: boolean;
}

/** Reads concurrently, a few at a time. */
async function inChunks<T, R>(items: T[], size: number, read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(read))));
  return out;
}

/** Reads (never writes) the real consumers of the sample, or draws the synthetic ones. */
export async function loadPopulation(
  db: Db,
  sample: SimulationSample,
  options: { topic: string; seed: string | number },
): Promise<Population> {
  if ('synthetic' in sample) return syntheticPopulation(sample.synthetic, options);
  const ids =
    'consumerIds' in sample
      ? [...new Set(sample.consumerIds)]
      : await filteredIds(db, sample.filter?.attributes, sample.limit);
  const read = await inChunks(ids, 50, async (id) => {
    const consumer = await getConsumer(db, id);
    if (!consumer) return undefined;
    const [preferences, suppressed] = await Promise.all([
      getPreferences(db, id),
      suppressedChannels(db, { email: consumer.email, phone: consumer.phone }),
    ]);
    return { consumer, preferences, suppressed };
  });
  const consumers = new Map<string, SimulatedConsumer>();
  for (const entry of read) if (entry) consumers.set(entry.consumer.id, entry);
  return { ids, consumers, synthetic: false };
}

/** Ids of the first `limit` consumers (by id) whose attributes contain `attributes`. */
async function filteredIds(db: Db, attributes: Record<string, unknown> | undefined, limit: number): Promise<string[]> {
  const query = db<{ id: string }>('consumers').orderBy('id').limit(limit).select('id');
  if (attributes) void query.whereRaw('attributes @> ?::jsonb', [JSON.stringify(attributes)]);
  const rows: { id: string }[] = await query;
  return rows.map((row) => row.id);
}

/** `count` synthetic consumers, each drawn from the seed and its own id. */
export function syntheticPopulation(
  spec: SyntheticSample,
  options: { topic: string; seed: string | number },
): Population {
  const { seed, topic } = options;
  const width = String(spec.count).length;
  const consumers = new Map<string, SimulatedConsumer>();
  const ids: string[] = [];
  const at = new Date(0).toISOString();
  for (let n = 1; n <= spec.count; n++) {
    const id = `synthetic-${String(n).padStart(width, '0')}`;
    const has = (what: string, chance: number | undefined, fallback: number) =>
      uniform(seed, id, what) < (chance ?? fallback);
    const attributes: Record<string, unknown> = {};
    for (const [name, values] of Object.entries(spec.attributes ?? {})) {
      if (Array.isArray(values) && values.every((v) => typeof v === 'object' && v !== null && 'value' in v)) {
        const options = values as { value: unknown; share?: number }[];
        const index = pick(
          uniform(seed, id, 'attribute', name),
          options.map((v) => v.share ?? 1 / options.length),
        );
        attributes[name] = options[index]!.value;
      } else attributes[name] = values;
    }
    const phone = has('phone', spec.contact?.phone, 1) ? `+1555${String(n).padStart(7, '0')}` : null;
    const email = has('email', spec.contact?.email, 1) ? `${id}@example.invalid` : null;
    const consumer: Consumer = {
      id,
      email,
      phone,
      postalAddress: has('postalAddress', spec.contact?.postalAddress, 0)
        ? {
            name: `Consumer ${n}`,
            lines: [`${n} Simulation Street`],
            city: 'Springfield',
            postalCode: '00000',
            country: 'US',
          }
        : null,
      attributes,
      createdAt: at,
      updatedAt: at,
    };
    const preferences = defaultPreferences(id);
    for (const [channel, chance] of Object.entries(spec.optedOut ?? {}) as [Channel, number][])
      if (uniform(seed, id, 'opted-out', channel) < chance) preferences.channels[channel] = false;
    if (spec.topicOptedOut !== undefined && uniform(seed, id, 'topic-opted-out') < spec.topicOptedOut)
      preferences.topics[topic] = false;
    if (spec.quietHours && uniform(seed, id, 'quiet-hours') < spec.quietHours.share) {
      preferences.quietHours = { start: spec.quietHours.start, end: spec.quietHours.end };
      preferences.timeZone = spec.quietHours.timeZone ?? 'UTC';
    }
    const suppressed = new Map<Channel, SuppressionReason>();
    if (email && uniform(seed, id, 'suppressed', 'email') < (spec.suppressed?.email ?? 0))
      suppressed.set('email', 'bounce');
    if (phone && uniform(seed, id, 'suppressed', 'sms') < (spec.suppressed?.sms ?? 0)) {
      suppressed.set('sms', 'stop');
      suppressed.set('voice', 'stop');
    }
    ids.push(id);
    consumers.set(id, { consumer, preferences, suppressed });
  }
  return { ids, consumers, synthetic: true };
}
