// serve.mjs: the HTTP side shared by the benchmark peers (faye-server.mjs, cometd-server.mjs).
//
// Usage (from a peer): import { serve } from './serve.mjs';
//   serve(name, (req, res) => { ... })   // reads --port P from argv
// Listens on 127.0.0.1:P with limits fit for 20,000 keep-alive long polls,
// prints "listening http://127.0.0.1:P/cometd" once ready, and on SIGTERM or
// SIGINT closes the server and every open connection, then exits 0.
import http from 'node:http';

function usage(name, code) {
  (code ? process.stderr : process.stdout).write(`Usage: node ${name} --port P\n`);
  process.exit(code);
}

function parsePort(name, argv) {
  let port;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage(name, 0);
    else if (a === '--port') port = argv[++i];
    else if (a.startsWith('--port=')) port = a.slice(7);
    else usage(name, 2);
  }
  if (port === undefined || !/^\d+$/.test(port) || Number(port) > 65535) usage(name, 2);
  return Number(port);
}

export function serve(name, handler) {
  const port = parsePort(name, process.argv.slice(2));
  const server = http.createServer(handler);
  // Node's defaults close idle keep-alive connections after 5 s and bound the
  // whole request; a long poll is held 25 s and its connection reused at once.
  server.keepAliveTimeout = 120_000;   // > the clients' 60 s, > any advice interval
  server.headersTimeout = 125_000;     // must exceed keepAliveTimeout
  server.requestTimeout = 0;           // no cap on a held request
  server.timeout = 0;                  // no socket inactivity timeout
  server.maxRequestsPerSocket = 0;     // unlimited requests per connection
  // server.maxConnections stays unset: no cap on connections

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();      // parked long polls would hold close() up to 25 s
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.on('error', (err) => {
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exit(1);
  });
  // backlog: bursts of thousands of connects; the kernel caps it at somaxconn
  server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
    process.stdout.write(`listening http://127.0.0.1:${server.address().port}/cometd\n`);
  });
  return server;
}
