// faye-server.mjs: Faye 1.4 as a Bayeux peer for the benchmarks, endpoint /cometd on 127.0.0.1.
//
// Usage: node bench/peers/faye-server.mjs --port P
// Faye's NodeAdapter (in-memory engine, long-poll timeout 25 s like
// bayeux-fcgi's) attached to a plain node http server; other paths answer
// 404. Prints "listening http://127.0.0.1:P/cometd" when ready; SIGTERM or
// SIGINT stops it with exit status 0.
import faye from 'faye';
import { serve } from './serve.mjs';

const bayeux = new faye.NodeAdapter({ mount: '/cometd', timeout: 25 });

const server = serve('faye-server.mjs', (req, res) => {
  // only reached for paths outside /cometd: the adapter takes those first
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});
bayeux.attach(server);
