export * from './errors.js';
export * from './known-hosts.js';
export * from './remote-host.js';
export * from './shell-quote.js';
export * from './ssh-host.js';
