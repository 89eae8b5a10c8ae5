// Lint rules for facegate: typescript-eslint's type-checked recommendations over src/ and test/, plain recommended
// rules over the admin page's browser modules (web/). Promises must be awaited or marked `void` on purpose.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The Facebank's methods that change it: only its owner (src/enrol) calls them (CONTRIBUTING, "The facebank has one owner"). */
const FACEBANK_CHANGES = new Set(['createPerson', 'renamePerson', 'deletePerson', 'addSample', 'deleteSample', 'applyBatch', 'replaceEmbeddings', 'reembed']);

const facebankOwner = {
  meta: {
    type: 'problem',
    messages: { owner: 'Only src/enrol changes the facebank: call the enrolment service (src/enrol/service.ts) instead of Facebank.{{method}}.' },
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    return {
      'CallExpression > MemberExpression.callee'(node) {
        if (node.property.type !== 'Identifier' || !FACEBANK_CHANGES.has(node.property.name)) return;
        const type = services.getTypeAtLocation(node.object);
        const named = (t) => t.getSymbol()?.getName() === 'Facebank' || (t.isUnion() && t.types.some(named));
        if (named(type)) context.report({ node, messageId: 'owner', data: { method: node.property.name } });
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'engines/**', 'node_modules/**', 'src/wasm/**', 'test/helpers/prereqs.mjs'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // The `!` on indexed reads is deliberate (arrays of known length); the rule would strip them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Store and port methods are async by contract even when an implementation answers at once.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowArray: true }],
    },
  },
  {
    // The environment is read in one place, src/config/load.ts (ENV_OVERRIDES, ENV_SETTINGS, notifyEnv). Exceptions:
    // the benchmarks (developer tools that read FACEGATE_TEST_DATA and spawn children), and src/runtime/session.ts,
    // which writes ORT_TENSORRT_* because onnxruntime's TensorRT provider reads its options only from there.
    files: ['src/**/*.ts'],
    ignores: ['src/config/load.ts', 'src/bench/**', 'src/runtime/session.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment in src/config/load.ts and pass the value in.' },
      ],
    },
  },
  {
    // The facebank has one owner: nothing but src/enrol (and the store itself, its benchmarks and tests) changes it.
    files: ['src/**/*.ts'],
    ignores: ['src/enrol/**', 'src/store/**', 'src/bench/**'],
    plugins: { facegate: { rules: { 'facebank-one-owner': facebankOwner } } },
    rules: { 'facegate/facebank-one-owner': 'error' },
  },
  {
    // Tests read untyped JSON from real servers and pass methods to `expect`; the `any` rules would only add casts.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['web/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
    rules: { 'no-empty': 'error' },
  },
  {
    files: ['eslint.config.js', '.dependency-cruiser.cjs'],
    languageOptions: { globals: globals.node },
  },
);
