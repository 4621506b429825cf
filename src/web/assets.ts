/**
 * The pages' CSS and scripts, served from our own origin (no CDN): the NL Design System
 * component CSS (@utrecht/component-library-css), the open example theme of NL Design
 * System's design tokens (@nl-design-system-unstable/voorbeeld-design-tokens, EUPL) and
 * our own theme and scripts from src/web/public/. Read and gzipped once at start-up;
 * each URL carries a hash of the content, so a browser may keep a file for a year.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { RequestHandler } from 'express';

const require = createRequire(import.meta.url);
const publicDir = join(dirname(fileURLToPath(import.meta.url)), 'public');

const sources = {
  'utrecht.css': require.resolve('@utrecht/component-library-css/dist/index.css'),
  'tokens.css': join(dirname(require.resolve('@nl-design-system-unstable/voorbeeld-design-tokens/package.json')), 'dist/theme.css'),
  'buurtfonds.css': join(publicDir, 'buurtfonds.css'),
  'buurtfonds.js': join(publicDir, 'buurtfonds.js'),
} as const;

export type AssetName = keyof typeof sources;

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  hash: string;
}

function load(): Map<AssetName, Asset> {
  const out = new Map<AssetName, Asset>();
  for (const [name, path] of Object.entries(sources) as [AssetName, string][]) {
    const body = readFileSync(path);
    out.set(name, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      hash: createHash('sha256').update(body).digest('hex').slice(0, 12),
    });
  }
  return out;
}

let assets: Map<AssetName, Asset> | undefined;
const all = () => (assets ??= load());

/** The URL of an asset, with its content hash. */
export function assetUrl(name: AssetName): string {
  return `/static/${name}?v=${all().get(name)!.hash}`;
}

/** Compressed size in bytes (what a browser downloads). */
export function assetWeight(name: AssetName): number {
  return all().get(name)!.gzip.length;
}

export const assetNames = Object.keys(sources) as AssetName[];

/** GET /static/:name: the file, gzipped when the browser accepts it. */
export const serveAsset: RequestHandler = (req, res, next) => {
  const name = req.params.name as AssetName;
  const asset = all().get(name);
  if (!asset) return next();
  const immutable = req.query.v === asset.hash;
  res.set({
    'Content-Type': asset.type,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'public, no-cache',
    ETag: `"${asset.hash}"`,
    Vary: 'Accept-Encoding',
  });
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  if (req.acceptsEncodings('gzip') === 'gzip') {
    res.set('Content-Encoding', 'gzip').send(asset.gzip);
    return;
  }
  res.send(asset.body);
};
