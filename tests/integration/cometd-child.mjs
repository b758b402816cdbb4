// A CometD JavaScript client in its own process, driven over IPC by
// clients.test.mjs.  cometd-nodejs-client keeps one cookie jar per host for
// the whole process, so a second CometD client needs its own process to have
// its own BAYEUX_BROWSER cookie.
//
// Parent -> child: {op:'start', url} {op:'subscribe', channel}
//                  {op:'publish', channel, data} {op:'stop'}
// Child -> parent: {op:'started', clientId} {op:'subscribed', reply}
//                  {op:'published', reply} {op:'message', channel, data}
//                  {op:'advice', advice} {op:'stopped'} {op:'error', error}
import { adapt } from 'cometd-nodejs-client';
import { CometD } from 'cometd';

adapt();
const cometd = new CometD();
const send = (m) => { if (process.connected) process.send(m); };

// never outlive the test process
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), 120000).unref();

process.on('message', (m) => {
    try {
        switch (m.op) {
        case 'start':
            cometd.configure({ url: m.url, logLevel: 'warn' });
            cometd.addListener('/meta/connect', (reply) => {
                if (reply.advice) send({ op: 'advice', advice: reply.advice });
            });
            cometd.handshake((reply) => {
                if (reply.successful) send({ op: 'started', clientId: reply.clientId });
                else send({ op: 'error', error: `handshake failed: ${JSON.stringify(reply)}` });
            });
            break;
        case 'subscribe':
            cometd.subscribe(m.channel, (msg) => send({ op: 'message', channel: msg.channel, data: msg.data }),
                (reply) => send({ op: 'subscribed', reply: { successful: reply.successful, error: reply.error } }));
            break;
        case 'publish':
            cometd.publish(m.channel, m.data, (reply) => send({ op: 'published', reply: { successful: reply.successful, error: reply.error } }));
            break;
        case 'stop':
            cometd.disconnect(() => {
                send({ op: 'stopped' });
                setTimeout(() => process.exit(0), 50);
            });
            break;
        default:
            send({ op: 'error', error: `unknown op ${m.op}` });
        }
    } catch (e) {
        send({ op: 'error', error: String(e && e.stack || e) });
    }
});
send({ op: 'ready' });
