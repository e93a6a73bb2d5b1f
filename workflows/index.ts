/** The workflow bundle's entry point: every workflow type the worker registers. */
export { billReminderWorkflow } from './bill-reminder';
export { journeyWorkflow } from './journey/workflow';
export { resendMessageWorkflow } from './resend';
