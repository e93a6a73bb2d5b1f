/** The events services send: the one input of every journey. Sandbox-safe. */

/** An event as accepted by the API and delivered to a run. */
export interface JourneyEvent {
  id: string;
  type: string;
  consumerId: string;
  /** ISO-8601 time at which the event happened in the emitting service. */
  occurredAt: string;
  data: Record<string, unknown>;
}
