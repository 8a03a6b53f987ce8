// What the page knows: the signed-in user, their rooms with messages,
// receipts and typing, and a local contact book. Pure data plus the small
// rules that derive things from it (unread counts, ticks, titles); no DOM,
// no network.
import * as proto from './proto';

export interface ChatMessage {
  key: string;            // client_msg_id when known, else message_id
  seq: number;            // 0 while the send is in flight
  senderUserId: string;
  text: string;
  createdAt: number;
  clientMsgId: string;
  failed: boolean;
}

export interface RoomState {
  room: proto.Room;
  messages: ChatMessage[];          // ascending seq; unsent ones (seq 0) at the end
  loaded: boolean;                  // history fetched since the page (re)connected
  hasMore: boolean;                 // older messages exist on the server
  readSeq: number;                  // my own read watermark
  receipts: Map<string, proto.Receipt>;  // other members' watermarks
  typing: Map<string, number>;      // user id -> when the indicator expires
  lastText: string;                 // preview for the room list
  lastAt: number;                   // newest activity, for ordering
}

export type Tick = 'pending' | 'failed' | 'sent' | 'delivered' | 'read';

export interface Contact { displayName: string; phone: string; }

const SESSION_KEY = 'parley.session';
const CONTACTS_KEY = 'parley.contacts';

export interface SavedSession { token: string; refreshToken: string; user: proto.User; }

export function loadSession(): SavedSession | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as SavedSession) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: SavedSession | null): void {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
}

// Parley has no "user by id" lookup, so names are learned from auth.find_user
// answers and from the session, and remembered per browser.
export class Contacts {
  private map = new Map<string, Contact>();

  constructor() {
    try {
      const raw = localStorage.getItem(CONTACTS_KEY);
      if (raw) this.map = new Map(Object.entries(JSON.parse(raw) as Record<string, Contact>));
    } catch {
      this.map.clear();
    }
  }

  learn(u: proto.User): void {
    if (!u.userId) return;
    this.map.set(u.userId, { displayName: u.displayName, phone: u.phone });
    localStorage.setItem(CONTACTS_KEY, JSON.stringify(Object.fromEntries(this.map)));
  }

  get(userId: string): Contact | undefined {
    return this.map.get(userId);
  }

  name(userId: string): string {
    return this.map.get(userId)?.displayName || `User ${userId.slice(-4)}`;
  }
}

export class Store {
  me: proto.User | null = null;
  rooms = new Map<string, RoomState>();
  current: string | null = null;
  contacts = new Contacts();

  reset(): void {
    this.me = null;
    this.rooms.clear();
    this.current = null;
  }

  upsertRoom(room: proto.Room): RoomState {
    let st = this.rooms.get(room.roomId);
    if (!st) {
      st = {
        room, messages: [], loaded: false, hasMore: false, readSeq: 0,
        receipts: new Map(), typing: new Map(), lastText: '', lastAt: room.createdAt,
      };
      this.rooms.set(room.roomId, st);
    } else {
      // Events and answers can cross: never move last_seq backwards.
      const lastSeq = Math.max(st.room.lastSeq, room.lastSeq);
      st.room = { ...room, lastSeq };
    }
    return st;
  }

  isMember(room: proto.Room): boolean {
    return !!this.me && room.members.some((m) => m.userId === this.me!.userId);
  }

  // Adds or replaces a message (matched by client_msg_id or seq); keeps order.
  putMessage(st: RoomState, m: proto.Message): ChatMessage {
    const msg: ChatMessage = {
      key: m.clientMsgId || m.messageId, seq: m.seq, senderUserId: m.senderUserId, text: m.text,
      createdAt: m.createdAt, clientMsgId: m.clientMsgId, failed: false,
    };
    const list = st.messages;
    const i = list.findIndex((x) => x.seq === m.seq ||
      (!!m.clientMsgId && x.clientMsgId === m.clientMsgId && x.senderUserId === m.senderUserId));
    if (i >= 0) list.splice(i, 1);
    let at = list.length;
    while (at > 0 && (list[at - 1].seq === 0 || list[at - 1].seq > m.seq)) at--;
    list.splice(at, 0, msg);
    st.room.lastSeq = Math.max(st.room.lastSeq, m.seq);
    if (m.createdAt >= st.lastAt || st.lastText === '') {
      st.lastAt = Math.max(st.lastAt, m.createdAt);
      st.lastText = m.text;
    }
    return msg;
  }

  unread(st: RoomState): number {
    return Math.max(0, st.room.lastSeq - st.readSeq);
  }

  sortedRooms(): RoomState[] {
    return [...this.rooms.values()].sort((a, b) => b.lastAt - a.lastAt);
  }

  peerOf(st: RoomState): string | null {
    if (st.room.kind !== proto.RoomKind.Direct || !this.me) return null;
    return st.room.members.find((m) => m.userId !== this.me!.userId)?.userId ?? null;
  }

  title(st: RoomState): string {
    if (st.room.kind === proto.RoomKind.Group) return st.room.name || 'Group';
    const peer = this.peerOf(st);
    if (!peer) return 'Direct chat';
    const c = this.contacts.get(peer);
    return c ? c.displayName || c.phone : 'Unknown contact';
  }

  subtitle(st: RoomState): string {
    if (st.room.kind === proto.RoomKind.Group) {
      const names = st.room.members
        .map((m) => (m.userId === this.me?.userId ? 'You' : this.contacts.name(m.userId)));
      return `${st.room.members.length} members · ${names.join(', ')}`;
    }
    const peer = this.peerOf(st);
    return (peer && this.contacts.get(peer)?.phone) || 'Direct chat';
  }

  // Who is typing right now, as a sentence, or '' when nobody is.
  typingLine(st: RoomState, now: number): string {
    const who = [...st.typing.entries()].filter(([, until]) => until > now).map(([id]) => id);
    if (who.length === 0) return '';
    if (st.room.kind === proto.RoomKind.Direct) return 'typing…';
    const names = who.map((id) => this.contacts.name(id));
    return names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
  }

  // A message of mine is read once every other member has read it, and
  // delivered once every other member's device has received it.
  tick(st: RoomState, m: ChatMessage): Tick {
    if (m.failed) return 'failed';
    if (m.seq === 0) return 'pending';
    const others = st.room.members.filter((x) => x.userId !== this.me?.userId);
    if (others.length === 0) return 'sent';
    const rec = others.map((x) => st.receipts.get(x.userId));
    if (rec.every((r) => r && r.readSeq >= m.seq)) return 'read';
    if (rec.every((r) => r && Math.max(r.deliveredSeq, r.readSeq) >= m.seq)) return 'delivered';
    return 'sent';
  }
}
