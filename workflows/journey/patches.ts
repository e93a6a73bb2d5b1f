/**
 * Every `patched()` id the workflows use (the journey interpreter and the legacy bill reminder): what it guards,
 * when it came, and when it can go.
 * A patch id is stored in histories as a marker: never rename or reuse one.
 */

/** One workflow change made behind `patched()`. */
export interface PatchRecord {
  /** The id passed to `patched()` / `deprecatePatch()`. */
  id: string;
  /** What runs recorded with the patch do that runs recorded before it do not. */
  guards: string;
  /** The change that added it. */
  added: string;
  /** When the old branch can be removed (first `deprecatePatch(id)`, then the id itself). */
  removable: string;
  /** The replay fixtures of the shape before the patch (they must keep replaying until removal). */
  fixturesBefore: string;
}

/** The patches, by name. */
export const patches = {
  omniChannel: {
    id: 'omni-channel-v1',
    guards:
      'send steps decide their channel through an activity (preferences, quiet hours, caps), send on the ' +
      "channel's own task queue and may fall back on delivery reports (steps/send.ts); runs record their " +
      'progress for analytics. Runs without the marker keep the first-reachable-channel send (legacy-send.ts).',
    added: 'omni-channel journeys (issue 4), November 2026',
    removable:
      'when no run started before the patch is open: the longest maxLifetime of a journey published before ' +
      'then (90 days by default) after the deploy that added it. Then deprecatePatch, then delete legacy-send.ts.',
    fixturesBefore: 'test/replay/histories/journey-v1-*.json',
  },
  operatorTruth: {
    id: 'operator-truth-v1',
    guards:
      'a cancelled run ends as `cancelled`: search attributes, state and the analytics record are written in a ' +
      'non-cancellable scope before the workflow ends as cancelled (run.ts cancelled(), workflow.ts); branch and ' +
      'random-split choices, operator pauses and resumes are recorded in the history as local activity markers ' +
      'whose summary names them (run.ts note()). Runs without the marker end a cancellation with no record.',
    added: 'operators see the truth (issue 10), December 2026',
    removable:
      'when no run started before the patch is open (the longest maxLifetime, 90 days by default, after the ' +
      'deploy that added it). Then deprecatePatch, then drop the `truthful` checks.',
    fixturesBefore: 'test/replay/histories/journey-v1-*.json, journey-v2-*.json',
  },
  billReminderTruth: {
    id: 'bill-reminder-truth-v1',
    guards:
      'the legacy billReminderWorkflow (workflows/bill-reminder.ts): a cancelled run ends as `cancelled` (state, ' +
      'JourneyStatus=cancelled, JourneyStep=end, its run record) in a non-cancellable scope before it ends as ' +
      'cancelled, and every run records itself in journey_runs when it ends. Checked where the run ends or is ' +
      'cancelled, not at its start, since every run of this workflow started before the patch. Runs that ended ' +
      'without the marker recorded nothing and kept JourneyStatus=running when cancelled.',
    added: 'operators see the truth (issue 10), December 2026',
    removable:
      'when no run of billReminderWorkflow is open (new runs of bill-reminder use journeyWorkflow): then the ' +
      'workflow itself can go, with its fixtures.',
    fixturesBefore: 'test/replay/histories/bill-reminder-v1-*.json',
  },
  leanHistory: {
    id: 'lean-history-v1',
    guards:
      'the consumer lookup, channel decisions, progress and message-outcome records and profile updates run as ' +
      'local activities (one marker each, no activity events and no workflow task of their own; ' +
      'activity-profiles.ts localLookupProfile, localRecordProfile); an exit step shows no step of its own in ' +
      'the search attributes and the end sets step and status in one upsert (run.ts). Sends and webhooks stay ' +
      'regular activities. A lean run checks omni-channel-v1 at its start too, before its first local activity ' +
      '(run.ts constructor). Runs without the marker schedule those as regular activities and upsert each alone.',
    added: 'a cheaper journey on the server (issue 11), December 2026',
    removable:
      'when no run started before the patch is open (the longest maxLifetime, 90 days by default, after the ' +
      'deploy that added it). Then deprecatePatch, then drop the `lean` checks.',
    fixturesBefore: 'test/replay/histories/journey-v1-*.json, journey-v2-*.json, journey-v3-*.json',
  },
  holdout: {
    id: 'holdout-v1',
    guards:
      'runs of a journey with a `holdout` (contract/holdout.ts): at its start the run is assigned to the held-out or ' +
      'the treated group by its journey and consumer id; a held-out run records every send as skipped (`HeldOut`) ' +
      'without a channel decision or a send activity, walks the journey and waits for the goal like a treated one; ' +
      'the group is in the state (`heldOut`) and the run record (journey_runs.held_out). Checked in the run.ts ' +
      'constructor, before the first command, and only by runs of a journey with a holdout: other runs carry no ' +
      'marker, and a run that continues as new keeps the group it carries.',
    added: 'holdout groups (issue 12), December 2026',
    removable:
      'when no run started before the patch is open (the longest maxLifetime, 90 days by default, after the deploy ' +
      'that added it); runs recorded before it never had a holdout, so they never reach the check. Then ' +
      'deprecatePatch, then drop the check.',
    fixturesBefore: 'every fixture but journey-holdout-*.json (journeys without a holdout: they never ask)',
  },
} as const satisfies Record<string, PatchRecord>;
