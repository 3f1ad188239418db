/**
 * Layer rules, made executable:
 *   cli -> server -> app -> engine,  cli -> app,  ui -> (HTTP contract, plus the engine's pure metadata readers).
 * Nothing points back. `npm run depcheck` fails the build on a violation.
 */

/**
 * Engine modules the browser page runs too (compiled by tsconfig.ui.json): the metadata scheme readers and what
 * they need. They import only each other, never node: or a package, so the page and the server read an image's
 * metadata with the same code.
 */
const BROWSER_SHARED = [
  '^src/engine/output/(generation-metadata|generation-parameters|a1111-metadata-scheme|fooocus-metadata-scheme|python-literal|sampler-display-names)\\.ts$',
  '^src/engine/io/strict-json\\.ts$',
  '^src/engine/request-limits\\.ts$',
  '^src/engine/errors/fooocus-error\\.ts$',
];

module.exports = {
  forbidden: [
    {
      name: 'engine-is-a-library',
      comment: 'engine knows nothing of jobs, HTTP, config files, users or the command line.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(app|server|ui|cli)/' },
    },
    {
      name: 'app-below-server',
      comment: 'app holds use cases; it never imports the server, the UI or the CLI.',
      severity: 'error',
      from: { path: '^src/app/' },
      to: { path: '^src/(server|ui|cli)/' },
    },
    {
      name: 'app-without-http-framework',
      comment: 'app never imports fastify (the server is a thin shell around the app).',
      severity: 'error',
      from: { path: '^src/(app|engine)/' },
      to: { path: 'node_modules/(fastify|@fastify/)' },
    },
    {
      name: 'server-below-cli',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/(cli|ui)/' },
    },
    {
      name: 'ui-only-through-http',
      comment: 'browser code talks to the server only through the HTTP contract (and runs the shared metadata readers).',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: '^src/(engine|app|server|cli)/', pathNot: BROWSER_SHARED },
    },
    {
      name: 'browser-shared-stays-pure',
      comment: 'the engine modules the page also runs import only each other: no node:, no package, no other engine code.',
      severity: 'error',
      from: { path: BROWSER_SHARED },
      to: { pathNot: BROWSER_SHARED },
    },
    {
      name: 'models-below-graphs-and-lora',
      comment: 'engine/models reads and describes checkpoints; building graphs and applying LoRAs to them is the pipeline\'s.',
      severity: 'error',
      from: { path: '^src/engine/models/' },
      to: { path: '^src/engine/(graphs|lora|pipeline)/' },
    },
    {
      name: 'nothing-imports-the-cli',
      severity: 'error',
      from: { path: '^src/(engine|app|server|ui)/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'one-owner-of-onnxruntime',
      comment: 'onnxruntime-node is imported by exactly one engine file.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engine/runtime/onnx-runtime\\.ts$' },
      to: { path: 'node_modules/onnxruntime-(node|common)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
