import { contentType } from 'mime-types';

/** One `cache_control` rule of an `s3-sync` step: the first rule whose glob matches a file decides. */
export interface CacheRule {
  /** a glob: `*` and `?` stay within one path segment, `**` crosses them, `{a,b}` is either; a glob without `/` matches the file name in any folder */
  match: string;
  value: string;
}

/** Entry points: browsers must revalidate them, or a new release stays invisible behind a cached page. */
export const NO_CACHE = 'no-cache';
/** A file whose name carries its content hash never changes under that name. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Anything else (images without a hash, robots.txt, …): short enough that a release shows within minutes. */
export const SHORT = 'public, max-age=300';

/**
 * The rules that apply after a step's own: HTML pages, service workers and web app manifests are entry
 * points (`no-cache`); fingerprinted files are handled by {@link isFingerprinted}; the rest gets {@link SHORT}.
 */
export const DEFAULT_CACHE_RULES: readonly CacheRule[] = [
  { match: '*.{html,htm}', value: NO_CACHE },
  { match: '{sw,service-worker}.js', value: NO_CACHE },
  { match: '{*.webmanifest,manifest.json,asset-manifest.json}', value: NO_CACHE },
];

const escapeRegExp = (text: string): string => text.replace(/[.+^$()|[\]\\]/g, '\\$&');

/** The regular expression of one glob (see {@link CacheRule.match}); no `{}` nesting. */
export const globToRegExp = (glob: string): RegExp => {
  const anywhere = !glob.includes('/');
  const pattern = glob.replace(/^\/+/, '');
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` also matches no folder at all, so `assets/**/*.js` covers `assets/app.js`
      const slash = pattern[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) {
        source += '\\{';
        continue;
      }
      const options = pattern.slice(i + 1, end).split(',');
      source += `(?:${options.map((o) => globToRegExp(`/${o}`).source.slice(1, -1)).join('|')})`;
      i = end;
    } else source += escapeRegExp(char);
  }
  return new RegExp(`^${anywhere ? '(?:.*/)?' : ''}${source}$`);
};

// hex (webpack, Parcel): two digits at least; base64url (Rollup, Vite): both cases and a digit;
// base32 (esbuild): upper case and two digits. A word with a digit (`background1`) is none of these.
const HEX = /^(?=(?:\D*\d){2})(?=.*[a-f])[0-9a-f]{6,}$/;
const BASE64 = /^(?=.*\d)(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9_]{8,}$/;
const BASE32 = /^(?=(?:\D*\d){2})(?=.*[A-Z])[A-Z0-9]{8,}$/;

/**
 * Whether a file name carries a content hash before its extension (`app.3f9a1c.js`, `index-D8nNvU2S.js`,
 * `main.5e1f0b7d.chunk.css`). A hash must mix digits and letters: a name read as fingerprinted when it is
 * not would be cached for a year, so doubtful names (`photo-20240101.jpg`, `hero-background1.jpg`) are not. A bundler whose
 * hashes this misses gets an explicit rule (`{ match: "assets/**", value: "public, max-age=31536000, immutable" }`).
 */
export const isFingerprinted = (key: string): boolean => {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const parts = name.split(/[.-]/);
  // the last part is the extension; a hash is any part between the first and the extension
  return (
    parts.length >= 3 &&
    parts.slice(1, -1).some((part) => HEX.test(part) || BASE64.test(part) || BASE32.test(part))
  );
};

/**
 * The Cache-Control of a file (its key relative to the site's prefix): the step's rules in order, then
 * {@link DEFAULT_CACHE_RULES}, then fingerprinted files {@link IMMUTABLE}, then {@link SHORT}.
 *
 * @example
 * cacheControlFor('assets/app.3f9a1c.js', []) // 'public, max-age=31536000, immutable'
 * cacheControlFor('index.html', [])           // 'no-cache'
 */
export const cacheControlFor = (key: string, rules: readonly CacheRule[]): string => {
  for (const rule of [...rules, ...DEFAULT_CACHE_RULES]) {
    if (globToRegExp(rule.match).test(key)) return rule.value;
  }
  return isFingerprinted(key) ? IMMUTABLE : SHORT;
};

/**
 * The Content-Type of a file from its extension (mime-types), with `charset=utf-8` for text types;
 * `application/octet-stream` when the extension is unknown or missing.
 */
export const contentTypeFor = (key: string): string => {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return (dot > 0 && contentType(name.slice(dot))) || 'application/octet-stream';
};
