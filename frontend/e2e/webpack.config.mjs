// Builds the browser test page (e2e/page.tsx) into e2e/dist/: the real
// editors from ../src with React, @grafana/ui, @grafana/runtime and
// @grafana/data bundled in (in Grafana they are provided at runtime; this
// page has no Grafana around it). The same swc-loader options as the plugin
// build. Monaco (the raw query editor) is bundled too, with its stylesheets
// and its editor worker (a worker chunk, from page.tsx's MonacoEnvironment).
// A filesystem cache under e2e/.cache makes a rebuild of unchanged
// sources take seconds.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontend = path.join(here, '..');
const monacoEditor = path.join(frontend, 'node_modules/monaco-editor');

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
      // Monaco's stylesheets (the raw query editor) are applied: webpack's
      // own CSS support puts each into a <style> element; its codicon font
      // is inlined.
      {
        test: /\.css$/,
        include: monacoEditor,
        type: 'css',
        parser: { exportType: 'style' },
      },
      { test: /\.ttf$/, include: monacoEditor, type: 'asset/inline' },
      // @grafana/ui imports the stylesheets of uPlot, the data grid, the time
      // and slider pickers; none of those is on the page, so they are read
      // as text and not applied.
      { test: /\.css$/, exclude: monacoEditor, type: 'asset/source' },
    ],
  },
  output: {
    clean: true,
    filename: '[name].js',
    path: path.join(here, 'dist'),
    publicPath: '/',
  },
  // Webpack's native CSS, for Monaco's stylesheets (no style-loader needed).
  experiments: { css: true },
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
