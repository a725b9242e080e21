// Lint rules that keep the layout honest (see the README's Layout section): dependencies point
// one way, workflow code stays deterministic, and no promise is left floating.
import { builtinModules } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

const CAPABILITIES = ['applications', 'verification', 'webhooks', 'orgs'];
/** Every .ts file below a folder, as a path relative to the project (Node 20 has no fs.globSync). */
const tsFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
const SRC = tsFiles('src');
/** The HTTP layer: routes, request/response schemas and the JSON:API plumbing. */
const isHttp = (f) => f.startsWith('src/platform/http/') || /\/(routes|schemas)(\/|\.ts$)/.test(f);
const HTTP_LAYER = SRC.filter(isHttp);
/** A capability's inner layers: workflows, messages, rules, activities, repositories, services. */
const INNER = SRC.filter((f) => CAPABILITIES.some((c) => f.startsWith(`src/${c}/`)) && !isHttp(f));

/**
 * Code that runs in Temporal's workflow sandbox: workflows and every module they import as a
 * value. Workflow code may import (values) only from this set; types from anywhere.
 */
const isWorkflowCode = (f) =>
  /\/workflows\/[^/]+\.ts$/.test(f) ||
  f.endsWith('/workflow.ts') ||
  f.startsWith('src/applications/rules/') ||
  [
    'src/applications/domain.ts',
    'src/applications/messages.ts',
    'src/engine/workflows.ts',
    'src/platform/temporal/searchAttributes.ts',
    'src/verification/job/failures.ts',
    'src/verification/job/taskQueue.ts',
    // pure text rules the selfie evaluation shares with the checks
    'src/verification/document/fields.ts',
    'src/verification/document/editDistance.ts',
  ].includes(f);
const WORKFLOW_CODE = SRC.filter(isWorkflowCode);
const ROOT = import.meta.dirname;

/** A value import in workflow code that leaves the workflow-safe set (the rule follows relative paths). */
const workflowImports = {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      outside: '{{target}} is not workflow code: workflow code imports values only from workflow-safe modules (types from anywhere).',
    },
  },
  create(context) {
    const check = (node) => {
      if (!node.source || node.importKind === 'type' || node.exportKind === 'type') return;
      if (node.specifiers?.length && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type')) return;
      const spec = String(node.source.value);
      if (!spec.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), spec)).replace(/(\.ts)?$/, '.ts');
      if (!WORKFLOW_CODE.includes(target)) context.report({ node, messageId: 'outside', data: { target } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};
const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'models/**', 'coverage/**', 'eval/*.png'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    plugins: { 'import-x': importX },
    settings: {
      // import-x parses the imported files itself (cycles): with the TypeScript parser, not espree.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: 'src/platform',
              from: [...CAPABILITIES.map((c) => `src/${c}`), 'src/engine'],
              message: 'platform is the bottom layer: it knows no capability.',
            },
            {
              target: CAPABILITIES.map((c) => `src/${c}`),
              from: 'src/engine',
              message: 'the engine assembles capabilities; they do not import it.',
            },
            {
              target: 'src/webhooks',
              from: ['src/applications', 'src/verification', 'src/orgs'],
              message: 'webhooks deliver any event; they know no other capability.',
            },
            {
              target: 'src/verification',
              from: ['src/applications', 'src/webhooks', 'src/orgs'],
              message: 'the verification engine knows nothing of applications or webhooks.',
            },
            {
              target: 'src/orgs',
              from: ['src/applications', 'src/verification', 'src/webhooks'],
              message: 'orgs and keys know no other capability.',
            },
            {
              target: INNER,
              from: HTTP_LAYER,
              message:
                'inner layers (workflows, rules, activities, repositories, services) never import the HTTP layer (routes, schemas, platform/http): routes call them, not the other way round.',
            },
          ],
        },
      ],
    },
  },
  {
    files: WORKFLOW_CODE,
    plugins: { engine: { rules: { 'workflow-imports': workflowImports } } },
    rules: {
      'engine/workflow-imports': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({ name, message: 'workflow code runs in the deterministic sandbox: no Node built-ins.' })),
          patterns: [
            {
              regex: '(^|/)(activities|repository|checks)$',
              allowTypeImports: true,
              message: 'workflows import only the *types* of activities; side effects belong in activities.',
            },
            {
              regex: '(^|/)platform/(database|http|config|log|openapi)(/|$)',
              message: 'workflow code does no I/O: no database, HTTP, config or logger (use the workflow log).',
            },
            {
              regex: '^(kysely|pg|express|multer|sharp|onnxruntime-node|@electric-sql/.*|@temporalio/(activity|client|worker))$',
              message: 'not in workflow code: it runs in the deterministic sandbox.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node } },
  },
);
