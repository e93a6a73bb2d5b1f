/** Mocha root hooks: quiet SDK logs, and tear down the shared servers once after the whole run. */
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { teardownAll } from './support/resources';

// Tests provoke activity failures on purpose; only errors are worth printing.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
});

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await teardownAll();
  },
};
