/**
 * The project-local Temporal binaries (scripts/install-tools.sh puts them in `.tools/`): the dev server of
 * `npm start` and the time-skipping test server that tests and journey simulations run on.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The project-local tools folder installed by scripts/install-tools.sh. */
export const toolsBin = path.resolve(
  __dirname,
  '..',
  ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []),
  '.tools',
  'venv',
  'bin',
);

/** Path of a tool in the tools folder, with a clear error when the install step has not run. */
export function toolPath(name: 'temporal' | 'temporal-test-server'): string {
  const file = path.join(toolsBin, name);
  if (!existsSync(file))
    throw new Error(`${file} is missing: run \`bash scripts/install-tools.sh\` (npm install runs it)`);
  return file;
}
