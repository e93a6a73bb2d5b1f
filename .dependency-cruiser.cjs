// @ts-check
/**
 * The floors of the house, enforced by `npm run lint` (docs/architecture.md explains them). A folder may
 * import its own files and any folder on a lower floor; never one on its own floor or above (on one floor
 * only these are allowed, one way: scripts -> dev, scripts -> cli, cli -> dev and workers -> workflows). A process
 * entry is where the parts are put together: the worker process's (workers/main.ts) also runs the event relay, so
 * it may import journeys/.
 * Workflow code and the contract it shares with everyone else may import only an allow-list: they run in
 * Temporal's deterministic sandbox.
 * Tests are not a floor: they may import anything.
 */

/** Top to bottom. */
const floors = [
  ['dev', 'scripts', 'cli'],
  ['api'],
  ['journeys'],
  ['workflows', 'workers'],
  ['activities'],
  ['stores', 'migrations'],
  ['runtime'],
  ['contract', 'types'],
];

/** Same-floor imports allowed, one way. */
const sideways = { scripts: ['dev', 'cli'], cli: ['dev'], workers: ['workflows'] };

/** What workflow and contract code may import besides its own folders: Temporal's sandbox APIs and pure libraries. */
const sandboxLibraries = ['@temporalio/workflow', '@temporalio/common', 'ms'];

const folderPattern = (folders) => `^(${folders.join('|')})/`;

/** Process entries allowed to reach above their floor: entry -> folders. */
const entries = { 'workers/main.ts': ['journeys'] };

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const layerRules = floors
  .flatMap((floor, index) =>
    floor.map((folder) => {
      const notBelow = floors
        .slice(0, index + 1)
        .flat()
        .filter((other) => other !== folder && !(sideways[folder] ?? []).includes(other));
      const entryRules = Object.entries(entries)
        .filter(([entry]) => entry.startsWith(`${folder}/`))
        .map(([entry, reaches]) => ({
          name: `floors: ${entry} (a process entry) imports only lower floors and ${reaches.join(', ')}`,
          comment: `${entry} puts the process together; besides lower floors it may import ${reaches.join(', ')}.`,
          severity: 'error',
          from: { path: `^${entry.replace(/\./g, '\\.')}$` },
          to: { path: folderPattern(notBelow.filter((other) => !reaches.includes(other))) },
        }));
      return [
        {
          name: `floors: ${folder}/ imports only lower floors`,
          comment: `${folder}/ is on floor ${floors.length - index} of ${floors.length}; ${notBelow.join(', ')} are not below it.`,
          severity: 'error',
          from: {
            path: folderPattern([folder]),
            ...(entryRules.length > 0 ? { pathNot: entryRules.map((rule) => rule.from.path) } : {}),
          },
          to: { path: folderPattern(notBelow) },
        },
        ...entryRules,
      ];
    }),
  )
  .flat();

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no import loops',
      comment: 'Modules that import each other in a loop (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'sandbox: workflow code imports only workflows/, contract/ and the allow-list',
      comment:
        `Workflow code runs in Temporal's deterministic sandbox: no Node builtins, no I/O. Activities are imported ` +
        `as types only. Allowed packages: ${sandboxLibraries.join(', ')}.`,
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        dependencyTypesNot: ['type-only'],
        pathNot: [
          folderPattern(['workflows', 'contract', 'types']),
          `(^|/)node_modules/(${sandboxLibraries.join('|')})/`,
        ],
      },
    },
    {
      name: 'sandbox: contract/ imports only contract/ and the allow-list',
      comment: `contract/ is bundled into the workflows: it must be sandbox-safe and pure. Allowed packages: ${sandboxLibraries.join(', ')}.`,
      severity: 'error',
      from: { path: '^contract/' },
      to: { pathNot: [folderPattern(['contract', 'types']), `(^|/)node_modules/(${sandboxLibraries.join('|')})/`] },
    },
    {
      name: 'no unresolvable imports',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '^(dist|\\.tools|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
