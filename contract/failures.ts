/**
 * The one failure vocabulary: every failure type an activity raises, a run records or a workflow fails
 * with. Permanent failures are raised non-retryable (`ApplicationFailure.nonRetryable(msg, type)`) and
 * listed in the retry policies' `nonRetryableErrorTypes`. Sandbox-safe.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

/** Failure types. The values are stored in histories, message records and analytics: never rename one. */
export enum FailureType {
  /** The provider says this address or number can never get this message. */
  InvalidRecipient = 'InvalidRecipient',
  ConsumerNotFound = 'ConsumerNotFound',
  /** The consumer has no contact point on any channel the step may use. */
  NoContactPoint = 'NoContactPoint',
  /** The recipient opted out (at the provider, e.g. Twilio error 21610 after STOP, or in our preferences). */
  OptedOut = 'OptedOut',
  /** A built-in journey's template id names no template. */
  UnknownTemplate = 'UnknownTemplate',
  /** A journey's Liquid template did not render (recorded before TemplateError replaced it). */
  InvalidTemplate = 'InvalidTemplate',
  /**
   * A journey's Liquid template does not render: a syntax error, a tag that reads files, or a limit of the
   * template sandbox (memory, time, output size).
   */
  TemplateError = 'TemplateError',
  /** The provider rejected the request for a reason retrying cannot change (a 4xx other than rate limits). */
  ProviderRejected = 'ProviderRejected',
  /** A letter needs a complete postal address. */
  NoPostalAddress = 'NoPostalAddress',
  /** A journey webhook answered 4xx. */
  WebhookRejected = 'WebhookRejected',
  /**
   * A journey webhook names a target the outbound guard refuses: an internal address (loopback, private,
   * link-local, ...), plain http, or a redirect to one of those; unless WEBHOOK_ALLOWED_HOSTS lists it.
   */
  WebhookTargetForbidden = 'WebhookTargetForbidden',
  /** A journey webhook's answer is larger than WEBHOOK_MAX_RESPONSE_BYTES. */
  WebhookResponseTooLarge = 'WebhookResponseTooLarge',
  /** Every eligible channel is over a frequency cap (a skipped send). */
  FrequencyCapped = 'FrequencyCapped',
  /** No channel of the step is eligible, for mixed reasons (a skipped send). */
  NoEligibleChannel = 'NoEligibleChannel',
  /** The run is in its journey's holdout group: it sends nothing (a skipped send). */
  HeldOut = 'HeldOut',
  /** The run's version names a step that does not exist (a definition that escaped validation). */
  UnknownStep = 'UnknownStep',
  /** The channel decision chose a channel the step has no template for (a bug: the decision filters them). */
  TemplateMissing = 'TemplateMissing',
  /** A duration in a definition that does not parse (a definition that escaped validation). */
  InvalidDuration = 'InvalidDuration',
  /** A failure of unknown shape. */
  Unknown = 'Unknown',
}

/** Types an activity raises when retrying cannot help; the activity retry policies never retry them. */
export const permanentFailureTypes: readonly FailureType[] = [
  FailureType.InvalidRecipient,
  FailureType.ConsumerNotFound,
  FailureType.NoContactPoint,
  FailureType.OptedOut,
  FailureType.UnknownTemplate,
  FailureType.InvalidTemplate,
  FailureType.TemplateError,
  FailureType.ProviderRejected,
  FailureType.NoPostalAddress,
  FailureType.WebhookRejected,
  FailureType.WebhookTargetForbidden,
  FailureType.WebhookResponseTooLarge,
];

/** A failure as a run records it: where, its type (`InvalidRecipient`, ...) and message. */
export interface FailureRecord {
  step: string;
  type: string;
  message: string;
}

/** Turns an activity failure into the short description a run keeps in its state. */
export function describeFailure(step: string, err: unknown): FailureRecord {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure)
    return { step, type: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { step, type: cause.name, message: cause.message };
  return { step, type: FailureType.Unknown, message: String(cause) };
}
