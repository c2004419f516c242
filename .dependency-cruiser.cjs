// Module boundaries of ../shared/STYLE.md, enforced by dependency-cruiser (npm run lint; unit tier).
// Features (algorithms, execution, insights, users) import each other only through the interfaces
// named below; platform/, config.ts and generated/ sit underneath everything; app.ts, main.ts and
// cli/ are composition roots and may import anything.
const FEATURES = '(algorithms|execution|insights|users)';

/** The named interfaces one feature may use of another. */
const INTERFACES = [
  '^src/insights/insights-sink\\.ts$', // execution hands its typed Insights record to the sink
  '^src/insights/reported-metrics\\.ts$', // the metrics algorithm code reports during a call
  '^src/algorithms/semver\\.ts$', // the version reader orders versions like the management API
  '^src/algorithms/version-model\\.ts$', // the one shape of a version and its row mapping (decisions.md 40)
  '^src/users/user-store\\.ts$', // who owns what: the management API looks owners up
];

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles.', from: {}, to: { circular: true } },
    {
      name: 'features-through-interfaces',
      severity: 'error',
      comment: 'A feature imports another feature only through the interfaces named in .dependency-cruiser.cjs (STYLE.md).',
      from: { path: `^src/${FEATURES}/` },
      to: { path: `^src/${FEATURES}/`, pathNot: ['^src/$1/', ...INTERFACES] },
    },
    {
      name: 'kafkajs-only-in-kafka-adapters',
      severity: 'error',
      comment: 'Only the Insights Kafka adapters (src/insights/kafka-*.ts) import kafkajs.',
      from: { path: '^src/', pathNot: '^src/insights/kafka-[\\w-]+\\.ts$' },
      to: { path: '^node_modules/kafkajs/' },
    },
    {
      name: 'platform-below-features',
      severity: 'error',
      comment: 'platform/, config.ts, generated/ and client/ never import features or composition roots.',
      from: { path: '^src/(platform|generated|client)/|^src/config\\.ts$' },
      to: { path: `^src/(${FEATURES.slice(1, -1)}|cli)/|^src/(app|main)\\.ts$` },
    },
    {
      name: 'nothing-imports-composition-roots',
      severity: 'error',
      comment: 'app.ts, main.ts and cli/ are roots: nothing in src imports them (tests may).',
      from: { path: '^src/', pathNot: '^src/(app|main)\\.ts$|^src/cli/' },
      to: { path: '^src/(main|app)\\.ts$|^src/cli/' },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/generated/' },
    includeOnly: '^(src|node_modules)/',
  },
};
