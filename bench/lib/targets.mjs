// targets.mjs: starting and stopping the servers bench/run-matrix measures (lighttpd, Apache, Faye, cometd-nodejs-server).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    HERE, ROOT, RESPONDER, LOAD, LIGHTTPD, APACHE2, APACHE_MODDIR, ALL_SERVERS, APACHE_MAX_USERS, USERS_PER_LIGHTTPD_WORKER, USERS_PER_LOAD_PROC, RESPONDER_ARGS, CLK_TCK, APACHE, LIGHTTPD_EXTRA, sleep, now, die, log,
} from './common.mjs';
import {
    groups, killGroup, killAllGroupsSync, spawnGroup, stopGroup, procStat, allProcs, groupPids, statusKiB, pssKiB, hostIdle, waitHostQuiet, fdCount, sample, sampleTarget, freePort, isListening, waitListening, Client, flushRooms,
} from './proc.mjs';

// ------------------------------------------------------------- targets ---

export async function makeDir(prefix) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(dir, 0o755);
    return dir;
}

export function copyLogs(files, dest) {
    fs.mkdirSync(dest, { recursive: true });
    for (const f of files) {
        try { fs.copyFileSync(f, path.join(dest, path.basename(f))); } catch { /* not written */ }
    }
}

/** bayeux: lighttpd spawning the built responder (bin-path, max-procs 1). */
/** The server.* part of a bench lighttpd.conf: loopback, `workers` workers
 * sized for parked polls, the extra lines, then the caller's fastcgi part. */
export function lighttpdServerConf({ title, dir, port, workers, extra = [] }) {
    const q = (s) => JSON.stringify(String(s));
    return `# written by ${title}
server.modules = ( "mod_fastcgi" )
server.document-root = ${q(path.join(dir, 'www'))}
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = ${q(path.join(dir, 'error.log'))}
server.pid-file = ${q(path.join(dir, 'lighttpd.pid'))}
# each worker its own fd table: a parked poll costs 2 fds (client + backend);
# lighttpd stops accepting at 90% of max-fds
server.max-worker = ${workers}
server.max-fds = 20000
server.max-connections = 9000
server.listen-backlog = 4096
server.max-keep-alive-idle = 60
server.max-keep-alive-requests = 1000000
${extra.join('\n')}`;
}

export async function startBayeux(users, logDir) {
    const dir = await makeDir('bayeux-matrix-lighttpd-');
    const port = await freePort();
    const workers = Math.max(1, Math.ceil(users / USERS_PER_LIGHTTPD_WORKER));
    fs.mkdirSync(path.join(dir, 'www'));
    fs.writeFileSync(path.join(dir, 'www', 'index.html'), 'bench\n');
    const q = (s) => JSON.stringify(String(s));
    const conf = path.join(dir, 'lighttpd.conf');
    const errorLog = path.join(dir, 'error.log');
    const outLog = path.join(dir, 'lighttpd.out');
    // lighttpd splits bin-path on spaces; the build path must have none
    if (/\s/.test(RESPONDER)) throw new Error(`the responder's path has a space: ${RESPONDER}`);
    fs.writeFileSync(conf, `${lighttpdServerConf({ title: `bench/run-matrix for ${users} users`, dir, port, workers, extra: LIGHTTPD_EXTRA })}
fastcgi.server = ( "/cometd" => ((
    "bin-path" => ${q([RESPONDER, ...RESPONDER_ARGS].join(' '))},
    "socket" => ${q(path.join(dir, 'bayeux.sock'))},
    "max-procs" => 1,
    "check-local" => "disable"
)))
`);
    const child = spawnGroup(LIGHTTPD, ['-D', '-f', conf], { logFile: outLog });
    const pgid = child.pid;
    const classify = () => {
        const ps = allProcs().filter((p) => p.pgrp === pgid);
        return { server: ps.filter((p) => p.comm === 'lighttpd'), responder: ps.filter((p) => p.comm.startsWith('bayeux-fcgi')) };
    };
    try {
        await waitListening(port, child, 'lighttpd', 15000);
        const end = Date.now() + 10000;
        while (Date.now() < end && (classify().responder.length < 1 || classify().server.length < (workers > 1 ? workers + 1 : 1))) await sleep(50);
        if (!classify().responder.length) throw new Error('lighttpd did not spawn the responder');
    } catch (e) {
        await stopGroup(child);
        copyLogs([conf, errorLog, outLog], logDir);
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
    }
    const responderPid = classify().responder[0].pid;
    return {
        url: `http://127.0.0.1:${port}/cometd`,
        info: { lighttpd_workers: workers, responder_args: RESPONDER_ARGS.join(' '),
            ...(LIGHTTPD_EXTRA.length ? { lighttpd_conf: LIGHTTPD_EXTRA.join('; ') } : {}) },
        classify,
        check() {
            if (child.exitInfo) return `lighttpd exited ${JSON.stringify(child.exitInfo)}`;
            const r = classify().responder;
            if (!r.length) return 'the responder is gone';
            if (r[0].pid !== responderPid) return `the responder was restarted (pid ${responderPid} -> ${r[0].pid})`;
            return null;
        },
        async stop() {
            const info = await stopGroup(child);
            copyLogs([conf, errorLog, outLog], logDir);
            fs.rmSync(dir, { recursive: true, force: true });
            return info;
        },
    };
}

/** apache: the responder on 127.0.0.1:PORT behind Apache mpm_event + mod_proxy_fcgi. */
export async function startApache(users, logDir) {
    const dir = await makeDir('bayeux-matrix-apache-');
    const [port, backendPort] = [await freePort(), await freePort()];
    const respLog = path.join(dir, 'responder.log');
    const responder = spawnGroup(RESPONDER, ['--listen', `127.0.0.1:${backendPort}`, ...RESPONDER_ARGS], { logFile: respLog });
    try {
        await waitListening(backendPort, responder, 'bayeux-fcgi', 10000);
    } catch (e) {
        await stopGroup(responder);
        copyLogs([respLog], logDir);
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
    }
    // one worker thread per request in flight (a held poll holds one): as
    // httpd-conf/apache/bayeux.conf, 11 threads a process, all started up front
    const tpc = APACHE.threadsPerChild;
    const serverLimit = Math.ceil((users * APACHE.threadsPerUser + 50) / tpc);
    const www = path.join(dir, 'www');
    const run = path.join(dir, 'run');
    fs.mkdirSync(www, { mode: 0o755 });
    fs.mkdirSync(run, { mode: 0o755 });
    fs.writeFileSync(path.join(www, 'index.html'), 'bench\n');
    const conf = path.join(dir, 'httpd.conf');
    const errorLog = path.join(dir, 'error.log');
    const outLog = path.join(dir, 'apache.out');
    const q = (s) => JSON.stringify(String(s));
    const mod = (name, file) => `LoadModule ${name} ${q(path.join(APACHE_MODDIR, file))}\n`;
    let userGroup = '';
    if (process.getuid && process.getuid() === 0) {
        const user = fs.readFileSync('/etc/passwd', 'utf8').includes('\nwww-data:') ? 'www-data' : 'nobody';
        const group = fs.readFileSync('/etc/group', 'utf8').includes('\nwww-data:') ? 'www-data' : 'nogroup';
        userGroup = `User ${user}\nGroup ${group}\n`;
    }
    fs.writeFileSync(conf, `# written by bench/run-matrix for ${users} users
ServerRoot ${q(dir)}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
ListenBacklog 4096
PidFile ${q(path.join(run, 'httpd.pid'))}
DefaultRuntimeDir ${q(run)}
Mutex file:${run} default
ErrorLog ${q(errorLog)}
LogLevel warn
${mod('mpm_event_module', 'mod_mpm_event.so')}${mod('authz_core_module', 'mod_authz_core.so')}${mod('proxy_module', 'mod_proxy.so')}${mod('proxy_fcgi_module', 'mod_proxy_fcgi.so')}
${userGroup}
ServerLimit ${serverLimit}
StartServers ${serverLimit}
ThreadLimit ${tpc}
ThreadsPerChild ${tpc}
MaxRequestWorkers ${serverLimit * tpc}
MinSpareThreads ${tpc}
MaxSpareThreads ${serverLimit * tpc}
ThreadStackSize 262144
MaxConnectionsPerChild 0
${APACHE.asyncFactor ? `AsyncRequestWorkerFactor ${APACHE.asyncFactor}\n` : ''}# both above the responder's 25 s long-poll timeout
Timeout 120
ProxyTimeout 120
KeepAlive ${APACHE.keepAlive ? 'On' : 'Off'}
KeepAliveTimeout 60
MaxKeepAliveRequests 0
DocumentRoot ${q(www)}
<Directory />
    Require all granted
</Directory>
# no enablereuse: it fails against libfcgi
ProxyPass "/cometd" "fcgi://127.0.0.1:${backendPort}/"
`);
    const child = spawnGroup(APACHE2, ['-f', conf, '-DFOREGROUND'], { logFile: outLog });
    const classify = () => ({
        server: allProcs().filter((p) => p.pgrp === child.pid),
        responder: allProcs().filter((p) => p.pgrp === responder.pid),
    });
    try {
        await waitListening(port, child, 'apache2', 30000);
        // the baseline must include every child: wait until all are forked
        const end = Date.now() + 120000;
        while (Date.now() < end && classify().server.length < serverLimit + 1) {
            if (child.exitInfo) throw new Error(`apache2 exited ${JSON.stringify(child.exitInfo)}`);
            await sleep(250);
        }
        if (classify().server.length < serverLimit + 1) throw new Error(`apache2 started ${classify().server.length - 1} of ${serverLimit} processes`);
    } catch (e) {
        await stopGroup(child, 20000);
        await stopGroup(responder);
        copyLogs([conf, errorLog, outLog, respLog], logDir);
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
    }
    return {
        url: `http://127.0.0.1:${port}/cometd`,
        info: { apache_server_limit: serverLimit, apache_threads_per_child: tpc, apache_threads_per_user: APACHE.threadsPerUser, apache_async_factor: APACHE.asyncFactor,
            apache_keepalive: APACHE.keepAlive, responder_args: RESPONDER_ARGS.join(' ') },
        classify,
        check() {
            if (child.exitInfo) return `apache2 exited ${JSON.stringify(child.exitInfo)}`;
            if (responder.exitInfo) return `the responder exited ${JSON.stringify(responder.exitInfo)}`;
            return null;
        },
        async stop() {
            const a = await stopGroup(child, 20000);
            const r = await stopGroup(responder);
            copyLogs([conf, errorLog, outLog, respLog], logDir);
            fs.rmSync(dir, { recursive: true, force: true });
            return { apache: a, responder: r };
        },
    };
}

/** faye, cometd: node bench/peers/<name>-server.mjs --port P. */
export async function startPeer(name, users, logDir) {
    const script = path.join(ROOT, 'bench', 'peers', `${name}-server.mjs`);
    if (!fs.existsSync(script)) throw new Error(`missing ${path.relative(ROOT, script)}`);
    fs.mkdirSync(logDir, { recursive: true });
    const port = await freePort();
    const outLog = path.join(logDir, `${name}-server.log`);
    const child = spawnGroup(process.execPath, [script, '--port', String(port)], { logFile: outLog, pipeOut: true });
    const want = `listening http://127.0.0.1:${port}/cometd`;
    let seen = '';
    const ready = new Promise((resolve) => {
        child.stdout.on('data', (d) => { seen += d; if (seen.includes(want)) resolve(true); });
        child.exited.then(() => resolve(false));
        setTimeout(() => resolve(false), 20000);
    });
    if (!(await ready)) {
        await stopGroup(child);
        throw new Error(`${name}-server.mjs did not print "${want}" within 20 s (${JSON.stringify(child.exitInfo)})`);
    }
    return {
        url: `http://127.0.0.1:${port}/cometd`,
        info: { node: process.version },
        classify: () => ({ server: allProcs().filter((p) => p.pid === child.pid), responder: null }),
        check() { return child.exitInfo ? `${name}-server.mjs exited ${JSON.stringify(child.exitInfo)}` : null; },
        async stop() { return stopGroup(child); },
    };
}

export function startTarget(target, users, logDir) {
    fs.mkdirSync(logDir, { recursive: true });
    if (target === 'bayeux') return startBayeux(users, logDir);
    if (target === 'apache') return startApache(users, logDir);
    return startPeer(target, users, logDir);
}

