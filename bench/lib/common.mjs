// common.mjs: paths, limits and small helpers shared by bench/run-matrix and its modules.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(HERE, '..');
export const RESPONDER = path.join(ROOT, 'bayeux-fcgi');
export const LOAD = path.join(ROOT, 'bayeux-load');
export const LIGHTTPD = process.env.LIGHTTPD || '/usr/sbin/lighttpd';
export const APACHE2 = process.env.APACHE2 || '/usr/sbin/apache2';
export const APACHE_MODDIR = process.env.APACHE_MODDIR || '/usr/lib/apache2/modules';
export const ALL_SERVERS = ['bayeux', 'apache', 'faye', 'cometd'];
export const APACHE_MAX_USERS = 5000;
export const USERS_PER_LIGHTTPD_WORKER = 8000;
export const USERS_PER_LOAD_PROC = 8000;
// bayeux-load publishes from a few sessions at thousands of messages a second:
// the per-session publish rate limit (a guard against one flooding client)
// is off for the benchmark.
export const RESPONDER_ARGS = ['--timeout', '25000', '--backlog', '4096', '--publish-rate', '0'];
export const CLK_TCK = 100;
// Apache sizing. mod_proxy_fcgi holds a worker thread per held poll, and
// mpm_event lets a child accept more keep-alive connections than it has
// threads: a request arriving on one while every thread of that child holds
// a poll waits for a poll to end (up to 25 s), and busy children close idle
// keep-alive connections. With httpd-conf/apache/bayeux.conf's 11 threads x
// 1.1 per user, 5,000 users stalled connecting, sessions expired and messages
// were lost at 500 msg/s; 25 threads a child, 2 threads per user and
// AsyncRequestWorkerFactor 0.5 ran clean (--apache-* options to change).
export const APACHE = { threadsPerChild: 25, threadsPerUser: 2, asyncFactor: 0.5, keepAlive: true };

/** Extra lines for the bayeux target's lighttpd.conf (--lighttpd-conf, repeatable). */
export const LIGHTTPD_EXTRA = [];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();

export function die(msg) {
    // named after the bench script that failed (run-matrix, scaleout, ...)
    const name = (process.argv[1] || 'bench').split('/').pop().replace(/\.mjs$/, '');
    process.stderr.write(`${name}: ${msg}\n`);
    process.exit(2);
}

export function log(msg) {
    const t = new Date().toISOString().slice(11, 19);
    process.stderr.write(`[${t}] ${msg}\n`);
}

