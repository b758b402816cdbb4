// report.mjs: bench/run-matrix's tables (CSV, markdown) and plots from runs.jsonl.
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

// ------------------------------------------------------------- reports ---

export function readRuns(file) {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Cells (target, users, rooms) from the records of runs.jsonl, in matrix order. */
export function cellsFromRuns(runs) {
    const cells = new Map();
    for (const r of runs) {
        if (!r.target) continue;
        const k = `${r.target}/${r.users}/${r.rooms}`;
        if (!cells.has(k)) cells.set(k, { target: r.target, users: r.users, rooms: r.rooms, steps: [], memory: null, stop: null });
        const c = cells.get(k);
        if (r.kind === 'hold') c.memory = r.memory;
        if (r.kind === 'sweep') {
            c.steps.push(r);
            if (r.stop || r.reason) c.stop = r.stop || r.reason;
        }
        if (r.kind === 'start' || r.kind === 'error' || r.kind === 'end') c.stop = r.reason;
    }
    for (const c of cells.values()) if (!c.stop) c.stop = c.steps.length ? 'end of sweep' : 'no steps';
    const order = (t) => ALL_SERVERS.indexOf(t);
    return [...cells.values()].sort((a, b) => order(a.target) - order(b.target) || a.users - b.users || a.rooms - b.rooms);
}

export function best(steps, limit) {
    let b = null;
    for (const s of steps) {
        if (!s.latency_ms || !s.steady || s.lost > 0 || s.duplicates > 0 || s.latency_ms.p99 > limit) continue;
        if (!b || s.delivered_per_s > b.delivered_per_s) b = s;
    }
    return b;
}

/** Server CPU (all its processes, the whole step: connecting, publishing,
 * disconnecting) per delivered message of a step, in µs. */
export function cpuPerDelivery(step) {
    if (!step || !step.received) return null;
    return +(((step.server_cpu_s || 0) + (step.responder_cpu_s || 0)) * 1e6 / step.received).toFixed(1);
}

export const csvField = (v) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
export const csvLine = (a) => a.map(csvField).join(',');

export function perUser(loaded, base, users) {
    return loaded == null || base == null ? null : +((loaded - base) / users).toFixed(2);
}

export function writeReports(o, runs, wallS) {
    const cells = cellsFromRuns(runs);
    const matrix = [['target', 'users', 'rooms', 'best_rate_p99_250', 'p50_at_250', 'p99_at_250', 'interval_at_250',
        'best_rate_p99_1000', 'p50_at_1000', 'p99_at_1000', 'interval_at_1000', 'steps', 'stop_reason',
        'server_cpu_us_per_delivery_at_250', 'load_cpu_us_per_delivery_at_250']];
    const memory = [['target', 'users', 'rooms', 'server_kib_per_user', 'responder_kib_per_user', 'total_kib_per_user',
        'total_pss_kib_per_user', 'server_procs', 'server_rss_base_kib', 'server_rss_loaded_kib',
        'responder_rss_base_kib', 'responder_rss_loaded_kib', 'open_files_added']];
    for (const c of cells) {
        const b250 = best(c.steps, 250), b1000 = best(c.steps, 1000);
        matrix.push([c.target, c.users, c.rooms,
            b250?.delivered_per_s, b250?.latency_ms.p50, b250?.latency_ms.p99, b250?.interval,
            b1000?.delivered_per_s, b1000?.latency_ms.p50, b1000?.latency_ms.p99, b1000?.interval,
            c.steps.length, c.stop, cpuPerDelivery(b250), b250?.load_cpu_us_per_delivery]);
        const m = c.memory;
        if (m) {
            const sv = perUser(m.server_rss_loaded_kib, m.server_rss_base_kib, c.users);
            const rs = perUser(m.responder_rss_loaded_kib, m.responder_rss_base_kib, c.users);
            const pss = perUser(m.server_pss_loaded_kib + (m.responder_pss_loaded_kib || 0),
                m.server_pss_base_kib + (m.responder_pss_base_kib || 0), c.users);
            memory.push([c.target, c.users, c.rooms, sv, rs, +((sv || 0) + (rs || 0)).toFixed(2), pss, m.server_procs,
                m.server_rss_base_kib, m.server_rss_loaded_kib, m.responder_rss_base_kib, m.responder_rss_loaded_kib, m.open_files_added]);
        }
    }
    fs.writeFileSync(path.join(o.out, 'matrix.csv'), matrix.map(csvLine).join('\n') + '\n');
    // one series (target, rooms) a run of lines: gnuplot draws a line through contiguous points only
    const memRows = memory.slice(1).sort((x, y) => ALL_SERVERS.indexOf(x[0]) - ALL_SERVERS.indexOf(y[0]) || x[2] - y[2] || x[1] - y[1]);
    memory.splice(1, memRows.length, ...memRows);
    fs.writeFileSync(path.join(o.out, 'memory.csv'), memory.map(csvLine).join('\n') + '\n');
    // flat step table for gnuplot, header commented out
    const rc = ['# target,users,rooms,interval,delivered_per_s,p50_ms,p99_ms,steady,lost,duplicates,ok'];
    for (const r of runs) {
        if (r.kind !== 'sweep' || !r.latency_ms) continue;
        rc.push(csvLine([r.target, r.users, r.rooms, r.interval, r.delivered_per_s, r.latency_ms.p50, r.latency_ms.p99,
            r.steady ? 1 : 0, r.lost, r.duplicates, r.ok ? 1 : 0]));
    }
    fs.writeFileSync(path.join(o.out, 'runs.csv'), rc.join('\n') + '\n');

    let plots = '';
    if (o.plot) {
        const present = ALL_SERVERS.filter((t) => cells.some((c) => c.target === t));
        const r = spawnSync('gnuplot', ['-c', path.join(HERE, 'plot.gp'), o.out, present.join(' ')], { encoding: 'utf8' });
        if (r.error || r.status !== 0) {
            log(`gnuplot failed: ${r.error ? r.error.message : r.stderr.trim()}`);
        } else {
            plots = '\n![p99 latency against delivered messages per second](latency.png)\n\n![memory per held user](memory.png)\n';
        }
    }
    const md = summaryMarkdown(o, runs, matrix, memory, wallS) + plots;
    fs.writeFileSync(path.join(o.out, 'summary.md'), md);
    process.stdout.write(md);
}

export function mdTable(rows) {
    const esc = (v) => (v === null || v === undefined || v === '' ? '–' : String(v).replace(/\|/g, '\\|'));
    return [rows[0].map(esc).join(' | '), rows[0].map(() => '---').join(' | '), ...rows.slice(1).map((r) => r.map(esc).join(' | '))]
        .map((l) => `| ${l} |`).join('\n') + '\n';
}

export function parseCsv(text) {
    const rows = [];
    for (const line of text.split('\n')) {
        if (!line.trim() || line.startsWith('#')) continue;
        const row = [];
        let cur = '', quoted = false;
        for (let i = 0; i < line.length; i++) {
            const ch = line[i];
            if (quoted) {
                if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
            } else if (ch === '"') quoted = true;
            else if (ch === ',') { row.push(cur); cur = ''; } else cur += ch;
        }
        row.push(cur);
        rows.push(row);
    }
    return rows;
}

/** ceiling.csv's path,run,requests_per_s lines as one row a path (runs, then the median); other shapes as they are. */
export function ceilingTable(rows) {
    const [head, ...body] = rows;
    if (head.join(',') !== 'path,run,requests_per_s') return rows;
    const paths = new Map();
    for (const [p, run, rps] of body) {
        if (!paths.has(p)) paths.set(p, { runs: [], median: '' });
        if (run === 'median') paths.get(p).median = rps; else paths.get(p).runs.push(rps);
    }
    const n = Math.max(0, ...[...paths.values()].map((v) => v.runs.length));
    const out = [['path', ...Array.from({ length: n }, (_, i) => `run ${i + 1} req/s`), 'median req/s']];
    for (const [p, v] of paths) out.push([p, ...Array.from({ length: n }, (_, i) => fmtRate(v.runs[i])), fmtRate(v.median)]);
    return out;
}

export function fmtRate(v) { return v == null || v === '' ? '' : Number(v).toLocaleString('en-US'); }
export function fmtMs(v) { return v == null || v === '' ? '' : Number(v) >= 100 ? Math.round(Number(v)).toString() : Number(v).toFixed(1); }

export function versionOf(cmd, args, re) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    const m = re.exec(`${r.stdout || ''}${r.stderr || ''}`);
    return m ? m[1] : '?';
}

/** One line per target that ran: what exactly was measured. */
export function serversMarkdown(runs) {
    const seen = new Map();
    for (const r of runs) if (r.server && !seen.has(r.target)) seen.set(r.target, r.server);
    if (!seen.size) return '';
    let peers = {};
    try { peers = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench', 'peers', 'package.json'), 'utf8')).dependencies || {}; } catch { /* none */ }
    const lines = [];
    for (const t of ALL_SERVERS) {
        const i = seen.get(t);
        if (!i) continue;
        if (t === 'bayeux') {
            lines.push(`- bayeux: lighttpd ${versionOf(LIGHTTPD, ['-v'], /lighttpd\/(\S+)/)} (server.max-worker = users / ${USERS_PER_LIGHTTPD_WORKER} rounded up, ` +
                `max-fds 20000, max-connections 9000, listen-backlog 4096) spawning bayeux-fcgi ${i.responder_args} (bin-path, max-procs 1)`);
        } else if (t === 'apache') {
            lines.push(`- apache: Apache ${versionOf(APACHE2, ['-v'], /Apache\/(\S+)/)} mpm_event, ThreadsPerChild ${i.apache_threads_per_child}, ` +
                `ServerLimit = StartServers = (${i.apache_threads_per_user ?? APACHE.threadsPerUser} × users + 50) / ${i.apache_threads_per_child}, ` +
                `AsyncRequestWorkerFactor ${i.apache_async_factor ?? 'default'}, KeepAlive ${i.apache_keepalive === false ? 'Off' : 'On'}; ` +
                `mod_proxy_fcgi to bayeux-fcgi --listen 127.0.0.1:PORT ${i.responder_args}`);
        } else {
            const pkg = t === 'faye' ? 'faye' : 'cometd-nodejs-server';
            lines.push(`- ${t}: ${pkg} ${peers[pkg] || '?'} on node ${i.node || process.version} (bench/peers/${t}-server.mjs)`);
        }
    }
    return `Servers (each started fresh for every users × rooms cell, listening on 127.0.0.1):\n\n${lines.join('\n')}\n\n`;
}

export function summaryMarkdown(o, runs, matrix, memory, wallS) {
    const sweep = runs.filter((r) => r.kind === 'sweep' && r.latency_ms);
    const first = runs[0] || {};
    const durations = [...new Set(sweep.map((r) => {
        const m = / --duration (\d+)/.exec(r.load_args || '');
        return m ? Number(m[1]) : null;
    }).filter(Boolean))];
    const intervals = [...new Set(sweep.map((r) => r.interval))].sort((a, b) => b - a);
    const floor = (sweep.find((r) => r.steady_floor_ms) || { steady_floor_ms: 25 }).steady_floor_ms;
    const git = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout.trim();
    const cpus = os.cpus();
    let md = `# Chat benchmark matrix, ${(first.date || new Date().toISOString()).slice(0, 10)}\n\n`;
    md += `bayeux-fcgi ${git || '(no git)'}; ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0] ? cpus[0].model.trim() : 'cpu'}; ` +
        `servers and load client on the same cores. Load: bayeux-load --burst 10 --size 50 --sources 8` +
        `${durations.length ? `, --duration ${durations.join('/')} s a step` : ''}, users reconnecting every step; ` +
        `burst intervals swept ${intervals.join(', ')} ms (slow to fast) until p99 > 1000 ms, a lost or duplicated message, ` +
        `an unsteady step (median latency of the last third of the step above 2 × that of the first third, and above ` +
        `${2 * floor} ms), a failure, or the publisher falling behind (over 10% of the bursts skipped because ` +
        `every publish connection still waited for its answer: the server then sets the pace).${wallS ? ` The run took ${Math.floor(wallS / 60)} min ${Math.round(wallS % 60)} s.` : ''}\n\n`;
    md += serversMarkdown(runs);
    md += '## Delivered messages per second\n\nThe highest delivered rate of a steady step without loss, with p99 at most 250 ms and at most 1000 ms.\n\n';
    const mt = [['server', 'users', 'rooms', 'msg/s (p99 ≤ 250 ms)', 'p50 / p99 ms', 'msg/s (p99 ≤ 1 s)', 'p50 / p99 ms', 'steps', 'sweep ended by']];
    for (const r of matrix.slice(1)) {
        mt.push([r[0], fmtRate(r[1]), fmtRate(r[2]), fmtRate(r[3]), r[3] == null ? '' : `${fmtMs(r[4])} / ${fmtMs(r[5])}`,
            fmtRate(r[7]), r[7] == null ? '' : `${fmtMs(r[8])} / ${fmtMs(r[9])}`, r[11], r[12]]);
    }
    md += mdTable(mt);
    md += '\n## CPU per delivered message\n\nAt the step of the p99 ≤ 250 ms figure: CPU time of the server side (lighttpd or Apache ' +
        'processes and the responder, or the node process) and of the load generator over the whole step (connecting, ' +
        'publishing, disconnecting), divided by the messages delivered.\n\n';
    const ct = [['server', 'users', 'rooms', 'msg/s', 'server µs/msg', 'load generator µs/msg']];
    for (const r of matrix.slice(1)) {
        if (r[3] == null) continue;
        ct.push([r[0], fmtRate(r[1]), fmtRate(r[2]), fmtRate(r[3]), r[13] ?? '', r[14] ?? '']);
    }
    md += mdTable(ct);
    md += '\n## Memory per held user\n\nRSS growth from the fresh server to all users holding a long-poll, divided by the users ' +
        '(server: lighttpd processes summed, Apache processes summed, or the node process; responder: bayeux-fcgi). ' +
        'PSS counts pages shared between processes once.\n\n';
    const mm = [['server', 'users', 'rooms', 'server KiB/user', 'responder KiB/user', 'total KiB/user', 'total PSS KiB/user', 'RSS loaded MiB (server + responder)']];
    for (const r of memory.slice(1)) {
        const mib = (Number(r[9]) + (r[11] === null || r[11] === undefined ? 0 : Number(r[11]))) / 1024;
        mm.push([r[0], fmtRate(r[1]), fmtRate(r[2]), r[3], r[4], r[5], r[6], mib.toFixed(1)]);
    }
    md += mdTable(mm);
    const ceiling = path.join(o.out, 'ceiling.csv');
    if (fs.existsSync(ceiling)) {
        const rows = parseCsv(fs.readFileSync(ceiling, 'utf8'));
        if (rows.length) md += `\n## Ceilings (ceiling.csv, bench/ceiling: requests/s through lighttpd)\n\n${mdTable(ceilingTable(rows))}`;
    }
    const notes = runs.filter((r) => r.kind === 'start' || r.kind === 'error');
    if (notes.length) md += `\n## Failures\n\n${notes.map((r) => `- ${r.target} ${r.users} users ${r.rooms} rooms: ${r.reason}`).join('\n')}\n`;
    return md;
}

