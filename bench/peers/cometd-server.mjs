// cometd-server.mjs: cometd-nodejs-server 1.2 as a Bayeux peer for the benchmarks, endpoint /cometd on 127.0.0.1.
//
// Usage: node bench/peers/cometd-server.mjs --port P
// One CometD server (long-poll timeout 25 s like bayeux-fcgi's) handling
// every path under /cometd (the CometD client posts to /cometd/connect,
// /cometd/handshake, ...); other paths answer 404. Prints
// "listening http://127.0.0.1:P/cometd" when ready; SIGTERM or SIGINT stops
// it with exit status 0.
import { createRequire } from 'node:module';
import { serve } from './serve.mjs';

const require = createRequire(import.meta.url);
const cometd = require('cometd-nodejs-server').createCometDServer({ timeout: 25000 });

serve('cometd-server.mjs', (req, res) => {
  const path = req.url.split('?', 1)[0];
  if (path === '/cometd' || path.startsWith('/cometd/')) {
    cometd.handle(req, res);
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  }
});
process.on('exit', () => cometd.close());
