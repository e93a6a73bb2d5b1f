/**
 * The architecture's own checks, proven able to fail: the floors and sandbox rules that `npm run lint`
 * enforces (.dependency-cruiser.cjs) catch each kind of violation planted in a scratch tree, and a new
 * step type does not compile until the step table, the interpreter's handlers and the schema handle it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './support/resources';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..');
const sourceFolders = [
  'types',
  'contract',
  'runtime',
  'stores',
  'migrations',
  'activities',
  'workflows',
  'workers',
  'journeys',
  'api',
  'dev',
  'scripts',
  'cli',
];

interface Violation {
  from: string;
  to: string;
  rule: string;
}

/** Runs the lint's dependency rules over `folders` of `cwd`; the violations found. */
async function cruise(cwd: string, folders: string[]): Promise<Violation[]> {
  const bin = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const args = [bin, '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json', ...folders];
  const { stdout } = await run(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  const result = JSON.parse(stdout) as {
    summary: { violations: { from: string; to: string; rule: { name: string } }[] };
  };
  return result.summary.violations.map((v) => ({ from: v.from, to: v.to, rule: v.rule.name }));
}

/** Writes `files` (path -> source) under `dir`, with the project's node_modules and tsconfig beside them. */
async function scratchTree(dir: string, files: Record<string, string>): Promise<void> {
  await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  await cp(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  for (const [file, source] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), source);
  }
}

describe('architecture', function () {
  this.timeout(120_000);

  describe('floors and sandbox rules (npm run lint)', () => {
    it('finds no violation in the project', async () => {
      assert.deepEqual(await cruise(root, sourceFolders), []);
    });

    it('catches an upward import, a loop, a sideways import and sandbox escapes, and lets the rest through', async () => {
      const dir = await tempDir('layers');
      await scratchTree(dir, {
        'contract/types.ts': 'export interface Thing { id: string }\n',
        'contract/zod-user.ts': "import { z } from 'zod';\nexport const id = z.string();\n",
        'runtime/config.ts': "import { routes } from '../api/app';\nexport const config = { routes };\n",
        'stores/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
        'stores/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
        'activities/index.ts':
          "import type { Thing } from '../contract/types';\nexport const activities = (t: Thing) => t;\n",
        'workflows/ok.ts':
          "import type { activities } from '../activities';\nimport type { Thing } from '../contract/types';\n" +
          "import { sleep } from '@temporalio/workflow';\nexport type A = typeof activities;\nexport const ok = (t: Thing) => sleep(t.id);\n",
        'workflows/io.ts':
          "import { readFileSync } from 'node:fs';\nimport { activities } from '../activities';\n" +
          'export const io = () => [readFileSync, activities];\n',
        'workers/worker.ts': "import { ok } from '../workflows/ok';\nexport const worker = ok;\n",
        'journeys/router.ts': "import { worker } from '../workers/worker';\nexport const router = worker;\n",
        'api/app.ts': "import { router } from '../journeys/router';\nexport const routes = [router];\n",
        'scripts/bench.ts': "import { stack } from '../dev/stack';\nexport const bench = stack;\n",
        'dev/stack.ts': "import { routes } from '../api/app';\nexport const stack = routes;\n",
        'dev/start.ts': "import { bench } from '../scripts/bench';\nexport const start = bench;\n",
      });
      const found = (
        await cruise(dir, [
          'contract',
          'runtime',
          'stores',
          'activities',
          'workflows',
          'workers',
          'journeys',
          'api',
          'dev',
          'scripts',
        ])
      )
        .map((v) => `${v.rule}: ${v.from} -> ${v.to}`)
        .sort();
      const loop = 'no import loops';
      // The scratch tree's node_modules is a link to the project's: the resolved path says where it leads.
      const zod = path.relative(dir, path.join(root, 'node_modules', 'zod', 'index.d.cts'));
      assert.deepEqual(
        found.filter((line) => !line.startsWith(loop)),
        [
          'floors: dev/ imports only lower floors: dev/start.ts -> scripts/bench.ts',
          'floors: runtime/ imports only lower floors: runtime/config.ts -> api/app.ts',
          `sandbox: contract/ imports only contract/ and the allow-list: contract/zod-user.ts -> ${zod}`,
          'sandbox: workflow code imports only workflows/, contract/ and the allow-list: workflows/io.ts -> activities/index.ts',
          'sandbox: workflow code imports only workflows/, contract/ and the allow-list: workflows/io.ts -> fs',
        ],
      );
      assert.deepEqual(
        found.filter((line) => line.startsWith(loop)),
        [`${loop}: stores/a.ts -> stores/b.ts`],
      );
    });
  });

  describe('a new step type', () => {
    it('does not compile until the step table, the interpreter handlers and the schema handle it', async () => {
      const dir = await tempDir('step-type');
      for (const folder of sourceFolders)
        await cp(path.join(root, folder), path.join(dir, folder), { recursive: true });
      await cp(path.join(root, 'tsconfig.build.json'), path.join(dir, 'tsconfig.build.json'));
      await scratchTree(dir, {});
      const definitionFile = path.join(dir, 'contract', 'journey-definition.ts');
      const definition = await readFile(definitionFile, 'utf8');
      const withHold = definition
        .replace(
          '/** Ends the run. */',
          "export interface HoldStep extends StepBase {\n  type: 'hold';\n  next: string;\n}\n\n/** Ends the run. */",
        )
        .replace('  | ExitStep;', '  | ExitStep\n  | HoldStep;');
      assert.notEqual(withHold, definition, 'the Step union was found and extended');
      await writeFile(definitionFile, withHold);

      const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const { stdout } = await run(
        process.execPath,
        [tsc, '-p', 'tsconfig.build.json', '--noEmit', '--pretty', 'false'],
        {
          cwd: dir,
        },
      ).then(
        () => ({ stdout: '' }),
        (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
      );
      const filesWithErrors = [
        ...new Set([...stdout.matchAll(/^([\w/.-]+\.ts)\(\d+,\d+\): error/gm)].map((m) => m[1])),
      ];
      assert.deepEqual(filesWithErrors.sort(), [
        'contract/steps.ts',
        'journeys/schema.ts',
        'workflows/journey/steps/index.ts',
      ]);
    });
  });
});
