// Builds the browser test page (e2e/page.tsx) into e2e/dist/: the real
// editors from ../src with React, @grafana/ui, @grafana/runtime and
// @grafana/data bundled in (in Grafana they are provided at runtime; this
// page has no Grafana around it). The same swc-loader options as the plugin
// build. A filesystem cache under e2e/.cache makes a rebuild of unchanged
// sources take seconds.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontend = path.join(here, '..');

export default () => ({
  mode: 'development',
  context: here,
  devtool: false,
  entry: { page: './page.tsx' },
  target: 'web',
  cache: {
    type: 'filesystem',
    cacheDirectory: path.join(here, '.cache'),
    buildDependencies: { config: [fileURLToPath(import.meta.url)] },
  },
  module: {
    rules: [
      {
        exclude: /node_modules/,
        test: /\.[tj]sx?$/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2020',
              parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
              transform: { react: { runtime: 'classic' } },
            },
          },
        },
      },
      // @grafana/ui imports the stylesheets of uPlot, the data grid, the time
      // and slider pickers; none of those is on the page, so they are read
      // as text and not applied (no CSS loader needed).
      { test: /\.css$/, type: 'asset/source' },
    ],
  },
  output: {
    clean: true,
    filename: '[name].js',
    path: path.join(here, 'dist'),
    publicPath: '/',
  },
  performance: { hints: false },
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        { from: 'index.html', to: '.' },
        // Icons, where @grafana/ui looks for them (`${__grafana_public_path__}build/img/icons/`).
        { from: path.join(frontend, 'node_modules/@grafana/ui/dist/public/img/icons'), to: 'public/build/img/icons' },
      ],
    }),
  ],
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx', '.mjs'],
  },
  stats: 'errors-warnings',
});
