// Rendering: turns the Store into the room list, the chat header and the
// message list. Each render rebuilds its part from scratch (the lists are
// short); the composer is never re-rendered so typing is not disturbed.
import { avatar, byId, clockTime, dayLabel, h, shortWhen, show } from './dom';
import * as proto from './proto';
import { ChatMessage, RoomState, Store, Tick } from './store';

const TICK_LABEL: Record<Tick, string> = {
  pending: 'Sending', failed: 'Not sent, click to retry', sent: 'Sent',
  delivered: 'Delivered', read: 'Read',
};

function tickIcon(t: Tick): HTMLElement {
  const el = h('span', { class: `ticks ${t}`, title: TICK_LABEL[t], 'aria-label': TICK_LABEL[t] });
  if (t === 'pending') el.textContent = '◷';
  else if (t === 'failed') el.textContent = '!';
  else {
    const svgNs = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('viewBox', t === 'sent' ? '0 0 12 10' : '0 0 18 10');
    const path = document.createElementNS(svgNs, 'path');
    path.setAttribute('d', t === 'sent' ? 'M1 5.5l3 3L11 1.5' : 'M1 5.5l3 3L11 1.5M7.5 8.5L15 1.5');
    svg.append(path);
    el.append(svg);
  }
  return el;
}

export function renderMe(store: Store): void {
  const me = store.me;
  if (!me) return;
  byId('me-avatar').replaceChildren(avatar(me.displayName, me.userId));
  byId('me-name').textContent = me.displayName;
  byId('me-phone').textContent = me.phone;
}

export function renderRoomList(store: Store, onOpen: (roomId: string) => void): void {
  const list = byId('room-list');
  const now = Date.now();
  const items = store.sortedRooms().map((st) => {
    const title = store.title(st);
    const unread = store.unread(st);
    const typing = store.typingLine(st, now);
    const preview = typing || st.lastText || (st.room.kind === proto.RoomKind.Group ? 'Group created' : 'Say hello 👋');
    const key = store.peerOf(st) ?? st.room.roomId;
    return h('li', {},
      h('button', {
        class: `room${st.room.roomId === store.current ? ' active' : ''}${unread ? ' has-unread' : ''}`,
        type: 'button', 'data-room-id': st.room.roomId, onclick: () => onOpen(st.room.roomId),
      },
      avatar(title, key),
      h('span', { class: 'room-text' },
        h('span', { class: 'room-top' },
          h('span', { class: 'room-title' }, title),
          h('span', { class: 'room-when' }, shortWhen(st.lastAt))),
        h('span', { class: 'room-bottom' },
          h('span', { class: `room-preview${typing ? ' typing' : ''}` }, preview),
          unread ? h('span', { class: 'badge', 'aria-label': `${unread} unread` }, unread > 99 ? '99+' : String(unread)) : null))));
  });
  list.replaceChildren(...items);
  show(byId('rooms-empty'), items.length === 0);
}

export function renderChatHeader(store: Store): void {
  const st = store.current ? store.rooms.get(store.current) : undefined;
  show(byId('chat-empty'), !st);
  show(byId('chat-view'), !!st);
  document.body.classList.toggle('chat-open', !!st);
  if (!st) return;
  const title = store.title(st);
  byId('chat-avatar').replaceChildren(avatar(title, store.peerOf(st) ?? st.room.roomId));
  byId('chat-title').textContent = title;
  const typing = store.typingLine(st, Date.now());
  const sub = byId('chat-subtitle');
  sub.textContent = typing || store.subtitle(st);
  sub.classList.toggle('typing', !!typing);
  sub.dataset.typing = typing ? 'true' : 'false';
}

export interface MessageHandlers {
  loadEarlier(): void;
  retry(m: ChatMessage): void;
}

export function renderMessages(store: Store, handlers: MessageHandlers): void {
  const box = byId('messages');
  const st: RoomState | undefined = store.current ? store.rooms.get(store.current) : undefined;
  if (!st) {
    box.replaceChildren();
    return;
  }
  // Keep the view pinned to the bottom when it was there before.
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const prevHeight = box.scrollHeight;
  const prevTop = box.scrollTop;

  const nodes: Node[] = [];
  if (st.hasMore) {
    nodes.push(h('div', { class: 'load-earlier' },
      h('button', { class: 'link', type: 'button', onclick: () => handlers.loadEarlier() }, 'Load earlier messages')));
  } else if (st.loaded) {
    nodes.push(h('div', { class: 'chat-start' },
      st.room.kind === proto.RoomKind.Group ? `${store.title(st)} was created` : 'This is the start of your conversation'));
  }
  if (!st.loaded) nodes.push(h('div', { class: 'spinner small' }));

  let lastDay = '';
  let lastSender = '';
  const meId = store.me?.userId;
  const group = st.room.kind === proto.RoomKind.Group;
  for (const m of st.messages) {
    const day = dayLabel(m.createdAt || Date.now());
    if (day !== lastDay) {
      nodes.push(h('div', { class: 'day' }, h('span', {}, day)));
      lastDay = day;
      lastSender = '';
    }
    const mine = m.senderUserId === meId;
    const first = m.senderUserId !== lastSender;
    lastSender = m.senderUserId;
    const tick = mine ? store.tick(st, m) : null;
    const meta = h('span', { class: 'meta' }, clockTime(m.createdAt), tick ? tickIcon(tick) : null);
    const bubble = h('div', { class: 'bubble' },
      group && !mine && first ? h('div', { class: 'sender' }, store.contacts.name(m.senderUserId)) : null,
      h('span', { class: 'text' }, m.text),
      meta);
    const row = h('div', {
      class: `msg ${mine ? 'mine' : 'theirs'}${first ? ' first' : ''}`,
      'data-seq': m.seq, 'data-tick': tick ?? undefined,
    }, bubble);
    if (tick === 'failed') row.addEventListener('click', () => handlers.retry(m));
    nodes.push(row);
  }
  box.replaceChildren(...nodes);
  if (atBottom) box.scrollTop = box.scrollHeight;
  else if (prevTop < 40) box.scrollTop = box.scrollHeight - prevHeight + prevTop;  // older ones were prepended
}

export function renderConnState(state: string, detail?: string): void {
  const el = byId('conn-state');
  el.className = `conn-state ${state}`;
  el.textContent = state === 'online' ? 'Connected' : state === 'connecting' ? 'Connecting…' : `Offline${detail ? ` · ${detail}` : ''}`;
  byId('auth-conn').textContent = state === 'online' ? '' : el.textContent;
}
