// chat.js: the bayeux-fcgi chat page.
//
// The Bayeux client is the official CometD JavaScript client, copied by the
// build (make, target www-vendor) from tests/node_modules/cometd into
// www/vendor/cometd/.  The wire contract of the chat service (rooms, members,
// private messages) is the one the server implements in src/chat.c:
//
//   join:    subscribe /chat/<room>, /members/<room>; publish /service/members
//            {user, room}; on every successful (re)handshake
//   leave:   publish /service/members {room, leave: true}
//   chat:    publish /chat/<room> {chat}; everyone gets {user, chat}
//   private: publish /service/privatechat {room, chat, peer}; the peer and the
//            sender get {user, chat, scope: "private", peer: [...]} on /chat/<room>
//   rooms:   /rooms broadcasts and /service/rooms on demand: [{room, members}]
//
// Every piece of text that comes from a user or the server is put into the
// page with textContent, never as HTML.

import { CometD } from './vendor/cometd/cometd.js';
import { AckExtension } from './vendor/cometd/AckExtension.js';

const ROOM_RE = /^[A-Za-z0-9\-_!~()$@.]{1,64}$/;
const USER_MAX_CHARS = 32;
const CHAT_MAX_BYTES = 2000;
const LOG_MAX_ENTRIES = 500;
const NAME_KEY = 'bayeux-fcgi-chat-name';

const $ = (id) => document.getElementById(id);
const el = {
    status: $('status'),
    error: $('error'),
    join: $('join'),
    joinForm: $('join-form'),
    name: $('name'),
    room: $('room'),
    roomOptions: $('room-options'),
    chat: $('chat'),
    roomName: $('room-name'),
    me: $('me'),
    leave: $('leave-button'),
    log: $('log'),
    sendForm: $('send-form'),
    to: $('to'),
    message: $('message'),
    send: $('send-button'),
    membersPanel: $('members-panel'),
    members: $('members'),
    memberCount: $('member-count'),
    rooms: $('rooms'),
    roomsEmpty: $('rooms-empty'),
};

// What the user asked for (user, room) survives reconnects: every successful
// handshake joins it again.  `joined` is true once the server accepted it.
const state = {
    user: null,
    room: null,
    joined: false,
    members: [],
    roomSubs: [],     // CometD subscription handles of the current room
    retryJoin: false, // the join got no answer: send it again once connected
    conn: 'connecting',
    everConnected: false,
};

// ------------------------------------------------------------------ CometD

const cometd = new CometD();
// The server speaks long-polling and callback-polling, not WebSocket.
cometd.unregisterTransport('websocket');
cometd.configure({
    url: new URL('cometd', location.href).href,
    logLevel: 'warn',
});
// Acknowledged delivery: a connect reply lost on a flaky network (mobile,
// Wi-Fi hand-over) is sent again instead of being lost.
cometd.registerExtension('ack', new AckExtension());

cometd.addListener('/meta/handshake', (message) => {
    if (message.successful) {
        onHandshake();
    } else if (!cometd.isDisconnected()) {
        // The client retries the handshake by itself (with back-off).
        setConn(state.everConnected ? 'reconnecting' : 'connecting');
    } else {
        setConn('disconnected');
    }
});

cometd.addListener('/meta/connect', (message) => {
    if (cometd.isDisconnected()) {
        setConn('disconnected');
    } else if (message.successful) {
        state.everConnected = true;
        setConn('connected');
        if (state.retryJoin && state.room && !state.joined) {
            state.retryJoin = false;
            cometd.batch(() => {
                for (const sub of state.roomSubs) cometd.unsubscribe(sub);
                state.roomSubs = [];
                subscribeAndJoin();
            });
        }
    } else {
        setConn(state.everConnected ? 'reconnecting' : 'connecting');
    }
});

cometd.addListener('/meta/disconnect', () => setConn('disconnected'));

// The room list on demand arrives on /service/rooms (to this session only).
// A listener, unlike a subscription, survives re-handshakes.
cometd.addListener('/service/rooms', (message) => onRooms(message.data));

// Runs after every successful handshake: the first one, and each one after
// the server forgot this session (402 session_unknown, e.g. after a restart
// or a long network outage).  The client has dropped every subscription by
// then, so everything is subscribed again, and the room joined again.
function onHandshake() {
    state.roomSubs = [];
    state.joined = false;
    state.retryJoin = false;
    cometd.batch(() => {
        cometd.subscribe('/rooms', (message) => onRooms(message.data));
        if (state.room) subscribeAndJoin();
        cometd.publish('/service/rooms', {});
    });
}

// Closing or leaving the tab ends the session at once, so the others see this
// user leave now rather than after the server's session timeout.
window.addEventListener('pagehide', () => {
    if (!cometd.isDisconnected()) cometd.disconnect();
});
// Back from the back/forward cache: a new session (the old one was ended).
window.addEventListener('pageshow', (event) => {
    if (event.persisted && cometd.isDisconnected()) {
        setConn('connecting');
        cometd.handshake();
    }
});

// ------------------------------------------------------------------ join / leave

function subscribeAndJoin() {
    const { user, room } = state;
    state.roomSubs.push(
        cometd.subscribe(`/chat/${room}`, onChat),
        cometd.subscribe(`/members/${room}`, onMembers),
    );
    cometd.publish('/service/members', { user, room }, (reply) => {
        if (state.room !== room || state.user !== user) return; // left meanwhile
        if (reply.successful) {
            state.joined = true;
            clearError();
            showChat();
        } else if (reply.error) {
            // Refused (name taken, invalid name or room): back to the join form.
            showError(describeError(reply, room));
            dropRoom();
            showJoin(reply.error.endsWith(':room_invalid') ? el.room : el.name);
        } else {
            // No answer (connection lost): joined again after the next
            // successful handshake or connect.
            state.retryJoin = true;
            showError('Could not reach the server; joining again once reconnected.');
        }
    });
}

function join(user, room) {
    // already in (or joining) that room under that name
    if (state.room === room && state.user === user) return;
    if (state.room) leaveRoom();
    state.user = user;
    state.room = room;
    state.joined = false;
    try { localStorage.setItem(NAME_KEY, user); } catch { /* storage may be off */ }
    clearLog();
    el.joinForm.setAttribute('aria-busy', 'true');
    if (!cometd.isDisconnected() && cometd.getClientId()) {
        cometd.batch(subscribeAndJoin);
    }
    // else: not handshaken yet; onHandshake() joins.
}

// Unsubscribes from the current room and forgets it (no message to the server).
function dropRoom() {
    if (!cometd.isDisconnected()) {
        for (const sub of state.roomSubs) {
            try { cometd.unsubscribe(sub); } catch { /* gone with the session */ }
        }
    }
    state.roomSubs = [];
    state.room = null;
    state.joined = false;
    state.retryJoin = false;
    state.members = [];
    renderMembers();
}

function leaveRoom() {
    if (state.room && !cometd.isDisconnected() && cometd.getClientId()) {
        const room = state.room;
        cometd.batch(() => {
            cometd.publish('/service/members', { room, leave: true });
            dropRoom();
        });
    } else {
        dropRoom();
    }
}

// ------------------------------------------------------------------ incoming

function onChat(message) {
    const data = message.data;
    if (!data || typeof data !== 'object') return;
    const user = str(data.user);
    const text = str(data.chat);
    if (data.membership === 'join' || data.membership === 'leave') {
        addEntry('notice ' + data.membership, [span('text', text || `${user} has ${data.membership === 'join' ? 'joined' : 'left'}`)]);
        return;
    }
    if (data.scope === 'private') {
        const peers = Array.isArray(data.peer) ? data.peer.map(str) : [str(data.peer)];
        const label = `private to ${peers.map((p) => (p === state.user ? 'you' : p)).join(', ')}`;
        addEntry('message private', [span('user', user), span('tag', label), span('text', text)]);
        return;
    }
    addEntry(user === state.user ? 'message mine' : 'message', [span('user', user), span('text', text)]);
}

function onMembers(message) {
    const data = message.data;
    if (!Array.isArray(data)) return;
    state.members = data.map(str);
    renderMembers();
}

function onRooms(data) {
    if (!Array.isArray(data)) return;
    const rooms = data
        .filter((r) => r && typeof r === 'object' && typeof r.room === 'string')
        .map((r) => ({ room: r.room, members: Number(r.members) || 0 }));
    renderRooms(rooms);
}

// ------------------------------------------------------------------ rendering

function str(v) {
    return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function span(cls, text) {
    const s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
}

function addEntry(cls, parts) {
    const log = el.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const li = document.createElement('li');
    li.className = cls;
    const time = document.createElement('time');
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    li.append(time, ...parts);
    log.append(li);
    while (log.children.length > LOG_MAX_ENTRIES) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
}

function clearLog() {
    el.log.replaceChildren();
}

function renderMembers() {
    const members = state.members;
    el.members.replaceChildren();
    for (const name of members) {
        const li = document.createElement('li');
        li.dataset.name = name;
        if (name === state.user) {
            li.className = 'self';
            li.append(span('name', name), span('you', ' (you)'));
        } else {
            const b = document.createElement('button');
            b.type = 'button';
            b.className = 'member';
            b.textContent = name;
            b.title = `Private message to ${name}`;
            b.setAttribute('aria-label', `${name}: private message`);
            b.addEventListener('click', () => {
                el.to.value = name;
                updateComposer();
                el.message.focus();
            });
            li.append(b);
        }
        el.members.append(li);
    }
    el.memberCount.textContent = members.length ? `(${members.length})` : '';

    // the "To" selector: everyone, or one of the other members
    const selected = el.to.value;
    const options = [new Option('Everyone', '')];
    for (const name of members) {
        if (name !== state.user) options.push(new Option(name, name));
    }
    el.to.replaceChildren(...options);
    el.to.value = members.includes(selected) && selected !== state.user ? selected : '';
    updateComposer();
}

function renderRooms(rooms) {
    el.rooms.replaceChildren();
    el.roomOptions.replaceChildren();
    for (const { room, members } of rooms) {
        const li = document.createElement('li');
        li.dataset.room = room;
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'room';
        const count = `${members} ${members === 1 ? 'member' : 'members'}`;
        b.append(span('name', room), span('count', count));
        if (room === state.room && state.joined) {
            b.setAttribute('aria-current', 'true');
        }
        b.setAttribute('aria-label', `Room ${room}, ${count}`);
        b.addEventListener('click', () => pickRoom(room));
        li.append(b);
        el.rooms.append(li);
        const o = document.createElement('option');
        o.value = room;
        o.label = count;
        el.roomOptions.append(o);
    }
    el.roomsEmpty.hidden = rooms.length > 0;
}

function pickRoom(room) {
    el.room.value = room;
    if (state.room && state.joined) {
        if (room !== state.room) join(state.user, room);
        else el.message.focus();
        return;
    }
    if (el.name.value.trim()) {
        el.joinForm.requestSubmit();
    } else {
        el.name.focus();
    }
}

function updateComposer() {
    const to = el.to.value;
    el.message.placeholder = to ? `Private message to ${to}` : 'Message to everyone';
    el.send.textContent = to ? 'Send privately' : 'Send';
    el.sendForm.classList.toggle('private', Boolean(to));
}

function showChat() {
    el.joinForm.removeAttribute('aria-busy');
    const wasHidden = el.chat.hidden;
    el.roomName.textContent = state.room;
    el.me.textContent = state.user;
    el.join.hidden = true;
    el.chat.hidden = false;
    el.membersPanel.hidden = false;
    document.title = `${state.room} – bayeux-fcgi chat`;
    if (wasHidden) el.message.focus();
    markCurrentRoom();
}

function showJoin(focus) {
    el.joinForm.removeAttribute('aria-busy');
    el.join.hidden = false;
    el.chat.hidden = true;
    el.membersPanel.hidden = true;
    document.title = 'bayeux-fcgi chat';
    markCurrentRoom();
    if (focus) focus.focus();
}

function markCurrentRoom() {
    for (const b of el.rooms.querySelectorAll('button.room')) {
        const li = b.parentElement;
        if (state.joined && li.dataset.room === state.room) b.setAttribute('aria-current', 'true');
        else b.removeAttribute('aria-current');
    }
}

const CONN_LABELS = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    disconnected: 'Disconnected',
};

function setConn(conn) {
    if (state.conn === conn) return;
    state.conn = conn;
    el.status.dataset.state = conn;
    el.status.textContent = CONN_LABELS[conn];
    document.body.dataset.conn = conn;
}

// ------------------------------------------------------------------ errors

function showError(text) {
    el.error.textContent = text;
    el.error.hidden = false;
}

function clearError() {
    el.error.textContent = '';
    el.error.hidden = true;
}

// A publish reply that failed: the server's error, or no answer at all.
function publishFailed(reply) {
    if (reply.successful) return;
    showError(reply.error ? describeError(reply, state.room)
        : 'Not sent: the connection to the server is down. Try again once reconnected.');
}

// Bayeux errors are "code:args:message"; args may hold ':' (a user name).
function describeError(reply, room) {
    const error = str(reply.error);
    const first = error.indexOf(':');
    const last = error.lastIndexOf(':');
    if (first < 0 || last === first) return `Server error: ${error}`;
    const args = error.slice(first + 1, last);
    switch (error.slice(last + 1)) {
    case 'name_taken':
        return `The name “${args}” is already taken in room ${room}. Pick another name.`;
    case 'user_invalid':
        return `“${args}” cannot be used as a name: 1 to ${USER_MAX_CHARS} characters, not only spaces, no control characters.`;
    case 'room_invalid':
        return `“${args}” is not a valid room name: 1 to 64 letters, digits or - _ ! ~ ( ) $ @ .`;
    case 'not_joined':
        return 'You are not in this room (any more). Join it again.';
    case 'chat_invalid':
        return `Message not sent: it must be 1 to ${CHAT_MAX_BYTES} bytes without control characters.`;
    case 'session_unknown':
    case 'client_id_missing':
        return 'Not sent: the server had lost this connection. Reconnecting; send it again once connected.';
    case 'peer_unknown':
        return `Private message not sent: “${args}” is not in this room.`;
    default:
        return `Server error: ${error}`;
    }
}

// ------------------------------------------------------------------ forms

el.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const user = el.name.value.trim();
    let room = el.room.value.trim();
    if (room.startsWith('/chat/')) room = room.slice('/chat/'.length);
    if (!user || [...user].length > USER_MAX_CHARS) {
        showError(`Enter a name of 1 to ${USER_MAX_CHARS} characters.`);
        el.name.focus();
        return;
    }
    if (!ROOM_RE.test(room)) {
        showError('Enter a room name of 1 to 64 letters, digits or - _ ! ~ ( ) $ @ .');
        el.room.focus();
        return;
    }
    clearError();
    join(user, room);
});

el.sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = el.message.value;
    if (!text.trim()) return;
    if (new TextEncoder().encode(text).length > CHAT_MAX_BYTES) {
        showError(`Message not sent: longer than ${CHAT_MAX_BYTES} bytes.`);
        return;
    }
    if (state.conn !== 'connected' || !state.joined) {
        showError('Not connected: the message is kept; send it again once connected.');
        return;
    }
    const room = state.room;
    const peer = el.to.value;
    if (peer) {
        cometd.publish('/service/privatechat', { room, chat: text, peer }, publishFailed);
    } else {
        cometd.publish(`/chat/${room}`, { chat: text }, publishFailed);
    }
    clearError();
    el.message.value = '';
    el.message.focus();
});

el.to.addEventListener('change', updateComposer);

el.leave.addEventListener('click', () => {
    leaveRoom();
    clearLog();
    showJoin(el.room);
    if (!cometd.isDisconnected()) cometd.publish('/service/rooms', {});
});

// ------------------------------------------------------------------ start

try {
    const saved = localStorage.getItem(NAME_KEY);
    if (saved && !el.name.value) el.name.value = saved;
} catch { /* storage may be off */ }
el.status.dataset.state = state.conn;
document.body.dataset.conn = state.conn;
cometd.handshake();
