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
  '^src/engine/output/(generation-metadata|generation-parameters|input-image-metadata|image-prompt-metadata|enhance-metadata|input-image-choices|a1111-metadata-scheme|fooocus-metadata-scheme|python-literal|sampler-display-names)\\.ts$',
  '^src/engine/output/(image-metadata-report|image-text-fields|text-bytes|exif-text-reader|png-stealth-info|png-filters|image-errors|imported-settings|metadata-json|sampler-name-mapping)\\.ts$',
  '^src/engine/output/(a1111|fooocus|comfyui|invokeai|novelai|swarmui)-settings-reader\\.ts$',
  '^src/engine/io/strict-json\\.ts$',
  '^src/engine/request-limits\\.ts$',
  '^src/engine/errors/fooocus-error\\.ts$',
];

/** A forbidden import: `from` may not import `to`; every layer rule fails the build. */
function forbid(name, comment, from, to) {
  return { name, comment, severity: 'error', from, to };
}

module.exports = {
  forbidden: [
    forbid('engine-is-a-library', 'engine knows nothing of jobs, HTTP, config files, users or the command line.', { path: '^src/engine/' }, { path: '^src/(app|server|ui|cli)/' }),
    forbid('app-below-server', 'app holds use cases; it never imports the server, the UI or the CLI.', { path: '^src/app/' }, { path: '^src/(server|ui|cli)/' }),
    forbid('app-without-http-framework', 'app never imports fastify (the server is a thin shell around the app).', { path: '^src/(app|engine)/' }, { path: 'node_modules/(fastify|@fastify/)' }),
    forbid('server-below-cli', 'the server never imports the command line or the browser code.', { path: '^src/server/' }, { path: '^src/(cli|ui)/' }),
    forbid('ui-only-through-http', 'browser code talks to the server only through the HTTP contract (and runs the shared metadata readers).', { path: '^src/ui/' }, { path: '^src/(engine|app|server|cli)/', pathNot: BROWSER_SHARED }),
    forbid('browser-shared-stays-pure', 'the engine modules the page also runs import only each other: no node:, no package, no other engine code.', { path: BROWSER_SHARED }, { pathNot: BROWSER_SHARED }),
    forbid('models-below-graphs-and-lora', 'engine/models reads and describes checkpoints; building graphs and applying LoRAs to them is the pipeline\'s.', { path: '^src/engine/models/' }, { path: '^src/engine/(graphs|lora|pipeline)/' }),
    forbid('nothing-imports-the-cli', 'the command line is the top layer: nothing below it imports it.', { path: '^src/(engine|app|server|ui)/' }, { path: '^src/cli/' }),
    forbid('one-owner-of-onnxruntime', 'onnxruntime-node is imported by exactly one engine file.', { path: '^src/', pathNot: '^src/engine/runtime/onnx-runtime\\.ts$' }, { path: 'node_modules/onnxruntime-(node|common)/' }),
    forbid('no-circular', 'no import cycles, so every layer can be read (and tested) on its own.', {}, { circular: true }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
