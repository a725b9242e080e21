// The lint rules that keep the layout (README, "Layout") fail on a violation: each case below
// adds one forbidden line to a real file of the engine and lints the result as that file.
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

describe('guardrails: the lint rules that encode the dependency direction', () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: process.cwd() });
  });

  /** The rule ids reported when `line` is added to `file` (as it is on disk). */
  async function rulesBrokenBy(file: string, line: string): Promise<string[]> {
    const [result] = await eslint.lintText(`${readFileSync(file, 'utf8')}\n${line}\n`, { filePath: file });
    return result.messages.filter((m) => m.severity === 2).map((m) => m.ruleId ?? m.message);
  }

  it('the engine as it is passes', async () => {
    for (const file of ['src/applications/repository.ts', 'src/applications/workflows/application.ts', 'src/platform/config.ts']) {
      expect(await rulesBrokenBy(file, ''), file).toEqual([]);
    }
  }, 60_000);

  it.each([
    [
      'a repository importing a route (inner layer → HTTP layer)',
      'src/applications/repository.ts',
      "export { newApplication } from './routes/newApplication';",
      'import-x/no-restricted-paths',
    ],
    [
      "a workflow client throwing the HTTP layer's errors",
      'src/applications/workflowClient.ts',
      "export { ApiError } from '../platform/http/errors';",
      'import-x/no-restricted-paths',
    ],
    [
      'platform importing a capability',
      'src/platform/log.ts',
      "export { EVENT } from '../applications/domain';",
      'import-x/no-restricted-paths',
    ],
    [
      'a capability importing the engine',
      'src/webhooks/payload.ts',
      "export { createActivities } from '../engine/activities';",
      'import-x/no-restricted-paths',
    ],
    [
      'webhooks importing applications',
      'src/webhooks/payload.ts',
      "export { EVENT } from '../applications/domain';",
      'import-x/no-restricted-paths',
    ],
    [
      'a Node built-in in workflow code',
      'src/applications/workflows/person.ts',
      "export { readFileSync } from 'node:fs';",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'a workflow importing activities as values',
      'src/applications/workflows/person.ts',
      "export { createApplicationActivities } from '../activities';",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'the database in workflow code',
      'src/applications/rules/status.ts',
      "export { connectDatabase } from '../../platform/database/connection';",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'workflow code importing a module that is not workflow code (signing uses node:crypto)',
      'src/applications/workflows/person.ts',
      "export { signBody } from '../../webhooks/signature';",
      'engine/workflow-imports',
    ],
    [
      'workflow code importing the Temporal client',
      'src/applications/workflows/application.ts',
      "export { connectTemporal } from '../../platform/temporal/client';",
      'engine/workflow-imports',
    ],
    [
      'a rule importing the model files (fs, onnxruntime)',
      'src/applications/rules/status.ts',
      "export { verifiedModelPath } from '../../verification/modelFiles';",
      'engine/workflow-imports',
    ],
    ['an import cycle', 'src/platform/config.ts', "export { log } from './log';", 'import-x/no-cycle'],
    [
      'a floating promise',
      'src/platform/log.ts',
      'const later = async () => undefined; later();',
      '@typescript-eslint/no-floating-promises',
    ],
  ])(
    'refuses %s',
    async (_what, file, line, rule) => {
      expect(await rulesBrokenBy(file, line)).toContain(rule);
    },
    60_000,
  );

  it('allows what the rules allow: activity types in workflows', async () => {
    expect(
      await rulesBrokenBy('src/applications/workflows/person.ts', "export type { OpenApplicationInput } from '../activities';"),
    ).toEqual([]);
  }, 60_000);
});
