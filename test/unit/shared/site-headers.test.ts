import {
  cacheControlFor,
  contentTypeFor,
  globToRegExp,
  IMMUTABLE,
  isFingerprinted,
  NO_CACHE,
  SHORT,
} from '../../../functions/shared/site-headers.js';

describe('globToRegExp', () => {
  it.each([
    ['*.html', 'index.html', true],
    ['*.html', 'docs/guide/index.html', true],
    ['*.html', 'index.html.map', false],
    ['assets/*.js', 'assets/app.js', true],
    ['assets/*.js', 'assets/vendor/app.js', false],
    ['assets/**', 'assets/vendor/app.js', true],
    ['assets/**/*.js', 'assets/app.js', true],
    ['assets/**/*.js', 'assets/a/b/app.js', true],
    ['/assets/*.js', 'assets/app.js', true],
    ['img/logo.png', 'static/img/logo.png', false],
    ['?.txt', 'a.txt', true],
    ['?.txt', 'ab.txt', false],
    ['*.{png,jpg}', 'photos/cat.jpg', true],
    ['*.{png,jpg}', 'photos/cat.gif', false],
    ['a+b(1).txt', 'a+b(1).txt', true],
    ['a+b(1).txt', 'aab1.txt', false],
  ])('reads %s as matching %s: %s', (glob, key, matches) => {
    // Act
    const result = globToRegExp(glob).test(key);

    // Assess
    expect(result).toBe(matches);
  });
});

describe('isFingerprinted', () => {
  it.each([
    'app.3f9a1c.js',
    'assets/index-D8nNvU2S.js',
    'static/css/main.5e1f0b7d.chunk.css',
    '123.3f9a1c2b.js',
    'assets/logo-QWERTY12.svg',
    '_next/static/chunks/pages/index-a1b2c3d4e5f6.js',
  ])('finds the content hash in %s', (key) => {
    // Act
    const result = isFingerprinted(key);

    // Assess
    expect(result).toBe(true);
  });

  it.each([
    'index.html',
    'app.js',
    'bootstrap.min.css',
    'jquery-3.7.1.min.js',
    'photo-20240101.jpg',
    'hero-background1.jpg',
    'roboto-v30-latin-regular.woff2',
    'polyfills-legacy.js',
    'deadbeef.js',
  ])('does not take %s for fingerprinted', (key) => {
    // Act
    const result = isFingerprinted(key);

    // Assess
    expect(result).toBe(false);
  });
});

describe('cacheControlFor', () => {
  it.each([
    ['index.html', NO_CACHE],
    ['docs/index.htm', NO_CACHE],
    ['sw.js', NO_CACHE],
    ['service-worker.js', NO_CACHE],
    ['manifest.json', NO_CACHE],
    ['app.webmanifest', NO_CACHE],
    ['assets/app.3f9a1c.js', IMMUTABLE],
    ['assets/index-D8nNvU2S.css', IMMUTABLE],
    ['favicon.ico', SHORT],
    ['img/logo.png', SHORT],
    ['robots.txt', SHORT],
  ])('gives %s the default %s', (key, expected) => {
    // Act
    const value = cacheControlFor(key, []);

    // Assess
    expect(value).toBe(expected);
  });

  it('applies the step’s rules first, in order', () => {
    // Prepare
    const rules = [
      { match: 'assets/**', value: 'public, max-age=31536000, immutable' },
      { match: '*.png', value: 'public, max-age=86400' },
      { match: 'img/*.png', value: 'never reached' },
      { match: 'index.html', value: 'no-store' },
    ];

    // Act
    const values = ['assets/plain.js', 'img/logo.png', 'index.html', 'about.html', 'robots.txt'].map((key) =>
      cacheControlFor(key, rules),
    );

    // Assess
    expect(values).toEqual([
      'public, max-age=31536000, immutable',
      'public, max-age=86400',
      'no-store',
      NO_CACHE,
      SHORT,
    ]);
  });
});

describe('contentTypeFor', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['assets/app.3f9a1c.js', 'text/javascript; charset=utf-8'],
    ['assets/app.css', 'text/css; charset=utf-8'],
    ['data/config.json', 'application/json; charset=utf-8'],
    ['robots.txt', 'text/plain; charset=utf-8'],
    ['app.webmanifest', 'application/manifest+json; charset=utf-8'],
    ['img/logo.svg', 'image/svg+xml'],
    ['img/photo.png', 'image/png'],
    ['fonts/inter.woff2', 'font/woff2'],
    ['app.wasm', 'application/wasm'],
    ['LICENSE', 'application/octet-stream'],
    ['.well-known/apple-app-site-association', 'application/octet-stream'],
    ['archive.unknownext', 'application/octet-stream'],
  ])('types %s as %s', (key, expected) => {
    // Act
    const type = contentTypeFor(key);

    // Assess
    expect(type).toBe(expected);
  });
});
