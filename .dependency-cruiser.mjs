// The direction of src/'s folders (docs/design.md, "Layers"), enforced by `npm run lint`.
//
// LAYERS lists the folders from the top (what nobody imports) to the bottom (what imports nothing of
// src/). A folder may import folders of lower layers; within a layer only the SIBLING_EDGES below; and
// never a higher layer. Together with no-circular (files) this keeps the folder graph free of cycles too.
// A new folder under src/ must be placed here before it lints.

/** Top to bottom. */
const LAYERS = [
  ['cli'],
  ['fleet', 'deploy', 'provision', 'platform'],
  ['network'],
  ['board', 'console'],
  ['orderer', 'fabricGateway', 'peer', 'gossip', 'client'],
  ['observability'],
  ['ledger', 'transport'],
  ['fabric', 'channel'],
  ['protocol'],
  ['crypto', 'config'],
];

/** Imports allowed between folders of the same layer: [from, to]. */
const SIBLING_EDGES = [
  ['provision', 'deploy'], // an SD card is provisioned with what a deployment would copy
  ['gossip', 'peer'], // gossip hands blocks to the peer's pipeline and reads its role
  ['fabricGateway', 'orderer'], // the gateway serves the Fabric channel it follows with the orderer's Deliver service
];

const any = (folders) => `^src/(${folders.join('|')})/`;
const known = LAYERS.flat();

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(0, i).flat();
  const rules = [];
  if (above.length > 0) {
    rules.push({
      name: `layer-${layer.join('-')}`,
      comment: `${layer.join(', ')} may not import a higher layer (${above.join(', ')}): docs/design.md, "Layers"`,
      severity: 'error',
      from: { path: any(layer) },
      to: { path: any(above) },
    });
  }
  for (const folder of layer) {
    const siblings = layer.filter((f) => f !== folder && !SIBLING_EDGES.some(([a, b]) => a === folder && b === f));
    if (siblings.length === 0) continue;
    rules.push({
      name: `sibling-${folder}`,
      comment: `${folder} may not import ${siblings.join(', ')} (same layer; allowed sibling imports are listed in SIBLING_EDGES)`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: any(siblings) },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles between files (type-only imports included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'folder-in-a-layer',
      comment: `Every folder of src/ has a place in LAYERS (.dependency-cruiser.mjs): ${known.join(', ')}`,
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: any(known) },
      to: {},
    },
    {
      name: 'import-from-a-layer',
      comment: `Every folder of src/ that is imported has a place in LAYERS (.dependency-cruiser.mjs)`,
      severity: 'error',
      from: {},
      to: { path: '^src/[^/]+/', pathNot: any(known) },
    },
    {
      name: 'src-not-to-tests-or-scripts',
      comment: 'src/ never imports test/ or scripts/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|scripts)/' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
