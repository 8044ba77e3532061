// The layers of Fashion Detect, lowest first, named by where the code runs (as VS Code names its own).
// A folder may import only from itself and from the layers below it; `npm test` checks this
// (tests/architecture/layers.test.ts) and `npx depcruise -c .dependency-cruiser.cjs src-main src-renderer/src` shows it.
//
//   common      plain functions that run anywhere (Node and the renderer); imports nothing
//   contract    the typed API shared with the renderer (zod schemas); common
//   core        the library: detect, train, eval, formats (plain Node; no contract, no Electron); common
//                 base < images < formats < dedupe < models < detect < label, eval, lint < train
//   workspace   the app's workspace on the core, implementing the contract
//   shell       common (what both transports serve) < electron (main process), preload, web (HTTP server)
//   cli         the command line, on the core
//   renderer    the Svelte window (src-renderer): contract and common only
const src = '^src-main/';
const coreOrder = ['base', 'images', 'formats', 'dedupe', 'models', 'detect', 'label|eval|lint', 'train'];

/** core/<lower> must not import core/<higher>; label and eval sit side by side. */
const coreRules = coreOrder.slice(0, -1).map((lower, i) => ({
  name: `core-${lower.replaceAll('|', '-')}-below`,
  comment: `core/${lower} is below ${coreOrder.slice(i + 1).join(', ')}: it may not import them`,
  severity: 'error',
  from: { path: `${src}core/(${lower})/` },
  to: { path: `${src}core/(${coreOrder.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import circles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: { path: '^(src-main|src-renderer)/' }, to: { couldNotResolve: true, pathNot: '^electron$' } },
    {
      name: 'common-imports-nothing',
      comment: 'common/ runs in the renderer too: no other layer, no Node.js, no packages',
      severity: 'error',
      from: { path: `${src}common/` },
      to: { pathNot: `${src}common/` },
    },
    {
      name: 'contract-on-common-only',
      comment: 'the contract is shared with the renderer: zod and common/ only',
      severity: 'error',
      from: { path: `${src}contract/` },
      to: { pathNot: [`${src}(contract|common)/`, 'node_modules/zod/'] },
    },
    {
      name: 'core-is-a-library',
      comment: 'the core knows no app, no contract, no shell, no CLI',
      severity: 'error',
      from: { path: `${src}core/` },
      to: { path: `${src}(contract|workspace|shell|cli)/` },
    },
    ...coreRules,
    {
      name: 'workspace-below-shells',
      severity: 'error',
      from: { path: `${src}workspace/` },
      to: { path: `${src}(shell|cli)/` },
    },
    {
      name: 'shell-common-below-transports',
      comment: 'what both transports serve knows neither transport, nor the workspace behind the contract',
      severity: 'error',
      from: { path: `${src}shell/common/` },
      to: { path: [`${src}shell/(electron|preload|web)/`, `${src}(workspace|cli)/`] },
    },
    {
      name: 'transports-apart',
      comment: 'the Electron shell and the web server do not use each other',
      severity: 'error',
      from: { path: `${src}shell/(electron|web)/` },
      to: { path: [`${src}shell/(web|electron)/`, `${src}cli/`], pathNot: `${src}shell/$1/` },
    },
    {
      name: 'preload-is-sandboxed',
      comment: 'the preload runs in the sandboxed page: contract types, common and electron only',
      severity: 'error',
      from: { path: `${src}shell/preload/` },
      to: { path: `${src}(core|workspace|cli|shell/web|shell/common)/` },
    },
    {
      name: 'preload-types-only-from-main',
      severity: 'error',
      from: { path: `${src}shell/preload/` },
      to: { path: `${src}shell/electron/`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cli-on-core',
      severity: 'error',
      from: { path: `${src}cli/` },
      to: { path: `${src}(contract|workspace|shell)/` },
    },
    {
      name: 'electron-only-in-the-shell',
      severity: 'error',
      from: { pathNot: `${src}shell/(electron|preload)/` },
      to: { path: '^electron$' },
    },
    {
      name: 'renderer-through-the-contract',
      comment: 'the window reaches the main side only through the contract (and common/), by alias',
      severity: 'error',
      from: { path: '^src-renderer/' },
      to: { path: '^src-main/', pathNot: `${src}(contract|common)/` },
    },
    {
      name: 'main-side-not-to-renderer',
      severity: 'error',
      from: { path: '^src-main/' },
      to: { path: '^src-renderer/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.svelte', '.json', '.d.ts'],
    },
  },
};
