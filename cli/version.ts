import pkg from '../package.json' with { type: 'json' };

/**
 * The package's version. Imported, not read at run time: the bundle (dist/nfsvol.js) carries it
 * from the build, so `nfsvol --version` is right wherever the package is installed and whatever
 * directory it runs from.
 */
export const VERSION: string = pkg.version;
