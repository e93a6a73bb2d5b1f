/**
 * Search attributes every run carries, so operators can find it in the Temporal UI and CLI. Never PII:
 * search attributes are not encrypted. Sandbox-safe.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The keys, typed; the server must have them registered (runtime/search-attributes.ts does it). */
export const searchAttributes = {
  consumerId: defineSearchAttributeKey('ConsumerId', SearchAttributeType.KEYWORD),
  journeyId: defineSearchAttributeKey('JourneyId', SearchAttributeType.KEYWORD),
  journeyVersion: defineSearchAttributeKey('JourneyVersion', SearchAttributeType.INT),
  journeyStep: defineSearchAttributeKey('JourneyStep', SearchAttributeType.KEYWORD),
  journeyStatus: defineSearchAttributeKey('JourneyStatus', SearchAttributeType.KEYWORD),
} as const;
