// Builds src/module.ts into dist/module.js as an AMD module, the way
// @grafana/create-plugin's webpack config does: Grafana's SystemJS loader
// provides the externals (React, @grafana/*, rxjs, ...) at runtime, so they
// are never bundled. Also copies plugin.json (with %VERSION% and %TODAY%
// filled in), the logo and the README to dist/.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
const pluginJson = JSON.parse(readFileSync(path.join(here, 'src/plugin.json'), 'utf8'));

const externals = [
  // For a dynamic public path: Grafana's loader provides `module`.
  { 'amd-module': 'module' },
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  // Legacy SDK imports ("grafana/app/...") are external without the prefix.
  ({ request }, callback) => {
    if (request && request.startsWith('grafana/')) {
      return callback(undefined, request.slice('grafana/'.length));
    }
    callback();
  },
];

// The plugin's README in Grafana's catalog: the repository's, else this folder's.
const readme = existsSync(path.join(here, '../README.md')) ? '../../README.md' : '../README.md';

const fill = (text) =>
  text
    .replace(/%VERSION%/g, pkg.version)
    .replace(/%TODAY%/g, new Date().toISOString().substring(0, 10))
    .replace(/%PLUGIN_ID%/g, pluginJson.id);

export default (env = {}) => ({
  mode: env.production ? 'production' : 'development',
  context: path.join(here, 'src'),
  devtool: env.production ? 'source-map' : 'eval-source-map',
  entry: { module: './module.ts' },
  externals,
  module: {
    rules: [
      {
        exclude: /node_modules/,
        test: /\.[tj]sx?$/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2015',
              loose: false,
              parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
              transform: { react: { runtime: 'classic' } },
            },
          },
        },
      },
    ],
  },
  output: {
    clean: {
      // Keep the backend binaries if they were built into dist/ as well.
      keep: /(.*?_(amd64|arm(64)?)(.exe)?|go_plugin_build_manifest)/,
    },
    filename: '[name].js',
    library: { type: 'amd' },
    path: path.resolve(here, 'dist'),
    publicPath: `public/plugins/${pluginJson.id}/`,
    uniqueName: pluginJson.id,
  },
  performance: { hints: false },
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        { from: 'plugin.json', to: '.', transform: (content) => fill(content.toString()) },
        { from: readme, to: 'README.md', transform: (content) => fill(content.toString()) },
        { from: 'img/**/*', to: '.' },
      ],
    }),
  ],
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx'],
  },
});
