#!/usr/bin/env node
// park-release: how much responder memory a held long-poll costs, and how
// fast held polls are answered when one publish releases them all.
//
// Starts a real lighttpd (127.0.0.1, temp dir) spawning the responder with
// bin-path; N clients handshake, subscribe to one channel and park a
// /meta/connect; the responder's RSS and open fds are read from /proc before
// and after parking; then one publish releases all N and the time to the last
// answer is measured. Bounded: every phase has a deadline, lighttpd and the
// responder are stopped by PID at the end.
//
// Usage: node bench/park-release.mjs [--n 1000] [--runs 3] [--responder ./bayeux-fcgi]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import http from 'node:http';
import net from 'node:net';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const N = Number(args.n ?? 1000);
const RUNS = Number(args.runs ?? 3);
const responder = resolve(args.responder ?? './bayeux-fcgi');
const deadline = (ms) => new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout ${ms} ms`)), ms).unref());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
function post(port, body) {
  return new Promise((res, rej) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/cometd', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (r) => {
      let buf = '';
      r.setEncoding('utf8');
      r.on('data', (c) => { buf += c; });
      r.on('end', () => { try { res(JSON.parse(buf)); } catch (e) { rej(new Error(`bad reply ${r.statusCode}: ${buf}`)); } });
    });
    req.on('error', rej);
    req.end(data);
  });
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}
const fds = (pid) => readdirSync(`/proc/${pid}/fd`).length;

async function inBatches(items, size, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(...await Promise.all(items.slice(i, i + size).map(fn)));
  return out;
}

async function run(port, lighttpdPid) {
  const responderPid = Number(execFileSync('pgrep', ['-P', String(lighttpdPid)]).toString().trim().split('\n')[0]);
  const ids = await inBatches([...Array(N).keys()], 200, async () => {
    const [hs] = await post(port, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]);
    await post(port, [{ channel: '/meta/subscribe', clientId: hs.clientId, subscription: '/bench/room' }]);
    await post(port, [{ channel: '/meta/connect', clientId: hs.clientId, connectionType: 'long-polling' }]);
    return hs.clientId;
  });
  await sleep(300);
  const rss0 = rssKiB(responderPid), fd0 = fds(responderPid), lrss0 = rssKiB(lighttpdPid);
  let answered = 0, tLast = 0, delivered = 0;
  let allDone;
  const done = new Promise((r) => { allDone = r; });
  for (const id of ids) {
    post(port, [{ channel: '/meta/connect', clientId: id, connectionType: 'long-polling' }]).then((reply) => {
      answered++;
      if (reply.some((m) => m.channel === '/bench/room')) delivered++;
      tLast = performance.now();
      if (answered === N) allDone();
    });
  }
  // parked once the responder holds one socket per poll
  const parkBy = Date.now() + 30000;
  while (fds(responderPid) < fd0 + N) {
    if (Date.now() > parkBy) throw new Error(`only ${fds(responderPid) - fd0} of ${N} parked`);
    await sleep(50);
  }
  await sleep(300);
  const rss1 = rssKiB(responderPid), lrss1 = rssKiB(lighttpdPid);
  // the clock starts before the publish is sent: its own reply comes back
  // only after the fan-out, so it includes the request's trip as well
  const t0 = performance.now();
  const pub = await post(port, [{ channel: '/bench/room', clientId: ids[0], data: { t: Date.now() } }]);
  if (!pub[0].successful) throw new Error(`publish failed: ${JSON.stringify(pub)}`);
  await Promise.race([done, deadline(30000)]);
  const elapsed = tLast - t0;
  for (const id of ids) post(port, [{ channel: '/meta/disconnect', clientId: id }]).catch(() => {});
  return {
    n: N, delivered, responderBytesPerPoll: Math.round((rss1 - rss0) * 1024 / N),
    lighttpdBytesPerPoll: Math.round((lrss1 - lrss0) * 1024 / N),
    lastAnswerMs: Math.max(0, Math.round(elapsed)), responder: { pid: responderPid, rssKiB: rss1 },
  };
}

async function once() {
  const dir = mkdtempSync(join(tmpdir(), 'bayeux-bench-'));
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', 'index.html'), 'bench\n');
  const port = await freePort();
  writeFileSync(join(dir, 'lighttpd.conf'), `
server.document-root = "${dir}/www"
server.bind = "127.0.0.1"
server.port = ${port}
server.pid-file = "${dir}/lighttpd.pid"
server.errorlog = "${dir}/error.log"
server.max-fds = 16384
server.max-connections = 8000
server.listen-backlog = 4096
server.modules = ("mod_fastcgi")
fastcgi.server = ("/cometd" => ((
  "bin-path" => "${responder} --timeout 60000 --log-level warn",
  "socket" => "${dir}/bayeux.sock", "max-procs" => 1, "check-local" => "disable")))
`);
  const lighttpd = spawn('lighttpd', ['-D', '-f', join(dir, 'lighttpd.conf')], { detached: true, stdio: 'inherit' });
  try {
    for (let i = 0; ; i++) {
      try { await post(port, [{ channel: '/meta/handshake' }]); break; } catch (e) { if (i > 100) throw e; await sleep(50); }
    }
    const res = await run(port, lighttpd.pid);
    res.responsesPerSec = Math.round(N / (res.lastAnswerMs / 1000));
    return res;
  } finally {
    process.kill(lighttpd.pid, 'SIGTERM');
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const results = [];
  for (let r = 0; r < RUNS; r++) {
    const res = await once();
    console.log(JSON.stringify(res));
    results.push(res);
  }
  const med = (k) => results.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
  console.log(`park-release N=${N} runs=${RUNS}: responder ${med('responderBytesPerPoll')} B/held poll, ` +
    `lighttpd ${med('lighttpdBytesPerPoll')} B/held poll, last answer ${med('lastAnswerMs')} ms after the publish, ` +
    `${med('responsesPerSec')} responses/s (medians)`);
  agent.destroy();
}
main().catch((e) => { console.error(e); process.exit(1); });
