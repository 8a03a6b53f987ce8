// Wire format: Envelopes and the payloads of the sys, auth, rooms and
// receipts namespaces (PROTOCOL.md §2-§7), built and read with the classes
// that `flatc --ts` generates from the project's own schemas at build time.
// Everything above this file works with plain objects; ulong fields become
// numbers (sequence numbers and epoch milliseconds fit in 2^53).
import * as flatbuffers from 'flatbuffers';
import * as env from './schema/env';
import * as sys from './schema/sys';
import * as auth from './schema/auth';
import * as rooms from './schema/rooms';
import * as receipts from './schema/receipts';

export const Kind = env.Kind;
export const Status = env.Status;
export const RoomKind = rooms.RoomKind;

// Each namespace's file identifier (PROTOCOL.md §3).
const PSYS = 'PSYS';
const PAUT = 'PAUT';
const PROM = 'PROM';
const PRCP = 'PRCP';

export interface Envelope {
  kind: number;
  id: number;
  method: string;
  status: number;
  error: string;
  payload: Uint8Array;
}

export interface User { userId: string; phone: string; displayName: string; createdAt: number; }
export interface Session { user: User; token: string; tokenExpiresAt: number; refreshToken: string; }
export interface Member { userId: string; role: number; joinedAt: number; }
export interface Room {
  roomId: string; kind: number; name: string; members: Member[]; createdAt: number; lastSeq: number;
}
export interface Message {
  messageId: string; roomId: string; seq: number; senderUserId: string; text: string;
  createdAt: number; clientMsgId: string;
}
export interface MessageList { messages: Message[]; hasMore: boolean; }
export interface TypingEvent { roomId: string; userId: string; typing: boolean; }
export interface Receipt {
  roomId: string; userId: string; readSeq: number; deliveredSeq: number; updatedAt: number;
}
export interface Unread { roomId: string; lastSeq: number; readSeq: number; unread: number; }
export interface Welcome { protocol: number; server: string; maxFrameBytes: number; methods: string[]; }

// ------------------------------------------------------------- envelopes ---

export function encodeRequest(id: number, method: string, payload: Uint8Array | null): Uint8Array {
  const b = new flatbuffers.Builder(64 + (payload ? payload.length : 0));
  const m = b.createString(method);
  const p = payload && payload.length ? env.Envelope.createPayloadVector(b, payload) : 0;
  env.Envelope.startEnvelope(b);
  env.Envelope.addKind(b, env.Kind.Request);
  env.Envelope.addId(b, BigInt(id));
  env.Envelope.addMethod(b, m);
  if (p) env.Envelope.addPayload(b, p);
  env.Envelope.finishEnvelopeBuffer(b, env.Envelope.endEnvelope(b));
  return b.asUint8Array();
}

// Throws when the bytes are not an Envelope (wrong identifier, out of bounds).
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (!env.Envelope.bufferHasIdentifier(bb)) throw new Error('not a Parley envelope');
  const e = env.Envelope.getRootAsEnvelope(bb);
  return {
    kind: e.kind(),
    id: Number(e.id()),
    method: e.method() ?? '',
    status: e.status(),
    error: e.error() ?? '',
    payload: e.payloadArray() ?? new Uint8Array(0),
  };
}

export function statusName(status: number): string {
  return env.Status[status] ?? `Status${status}`;
}

// -------------------------------------------------------------- builders ---

type Build = (b: flatbuffers.Builder) => number;

function finish(ident: string, build: Build): Uint8Array {
  const b = new flatbuffers.Builder(128);
  b.finish(build(b), ident);
  return b.asUint8Array();
}

export function hello(client: string): Uint8Array {
  return finish(PSYS, (b) => sys.Hello.createHello(b, 1, b.createString(client)));
}

export function register(phone: string, password: string, displayName: string): Uint8Array {
  return finish(PAUT, (b) =>
    auth.Register.createRegister(b, b.createString(phone), b.createString(password),
                                 b.createString(displayName)));
}

export function login(phone: string, password: string): Uint8Array {
  return finish(PAUT, (b) => auth.Login.createLogin(b, b.createString(phone), b.createString(password)));
}

export function resume(token: string): Uint8Array {
  return finish(PAUT, (b) => auth.Resume.createResume(b, b.createString(token)));
}

export function refresh(refreshToken: string): Uint8Array {
  return finish(PAUT, (b) => auth.Refresh.createRefresh(b, b.createString(refreshToken)));
}

export function findUser(phone: string): Uint8Array {
  return finish(PAUT, (b) => auth.FindUser.createFindUser(b, b.createString(phone)));
}

export function openDirect(peerUserId: string): Uint8Array {
  return finish(PROM, (b) => rooms.OpenDirect.createOpenDirect(b, b.createString(peerUserId)));
}

export function createRoom(name: string, memberUserIds: string[]): Uint8Array {
  return finish(PROM, (b) => {
    const n = b.createString(name);
    const ids = rooms.Create.createMemberUserIdsVector(b, memberUserIds.map((id) => b.createString(id)));
    return rooms.Create.createCreate(b, n, ids);
  });
}

export function send(roomId: string, clientMsgId: string, text: string): Uint8Array {
  return finish(PROM, (b) =>
    rooms.Send.createSend(b, b.createString(roomId), b.createString(clientMsgId), b.createString(text)));
}

export function history(roomId: string, beforeSeq: number, afterSeq: number, limit: number): Uint8Array {
  return finish(PROM, (b) =>
    rooms.History.createHistory(b, b.createString(roomId), BigInt(beforeSeq), BigInt(afterSeq), limit));
}

export function typing(roomId: string, isTyping: boolean): Uint8Array {
  return finish(PROM, (b) => rooms.Typing.createTyping(b, b.createString(roomId), isTyping));
}

export function mark(roomId: string, seq: number): Uint8Array {
  return finish(PRCP, (b) => receipts.Mark.createMark(b, b.createString(roomId), BigInt(seq)));
}

export function receiptsRoomRef(roomId: string): Uint8Array {
  return finish(PRCP, (b) => receipts.RoomRef.createRoomRef(b, b.createString(roomId)));
}

// --------------------------------------------------------------- readers ---

function root(bytes: Uint8Array, ident: string): flatbuffers.ByteBuffer {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (bytes.length < 8 || !bb.__has_identifier(ident)) throw new Error(`payload is not ${ident}`);
  return bb;
}

function readUser(u: auth.User | null): User {
  return {
    userId: u?.userId() ?? '',
    phone: u?.phone() ?? '',
    displayName: u?.displayName() ?? '',
    createdAt: Number(u?.createdAt() ?? 0),
  };
}

export function readWelcome(bytes: Uint8Array): Welcome {
  const w = sys.Welcome.getRootAsWelcome(root(bytes, PSYS));
  const methods: string[] = [];
  for (let i = 0; i < w.methodsLength(); i++) methods.push(w.methods(i));
  return { protocol: w.protocol(), server: w.server() ?? '', maxFrameBytes: w.maxFrameBytes(), methods };
}

export function readUserPayload(bytes: Uint8Array): User {
  return readUser(auth.User.getRootAsUser(root(bytes, PAUT)));
}

export function readSession(bytes: Uint8Array): Session {
  const s = auth.Session.getRootAsSession(root(bytes, PAUT));
  return {
    user: readUser(s.user()),
    token: s.token() ?? '',
    tokenExpiresAt: Number(s.tokenExpiresAt()),
    refreshToken: s.refreshToken() ?? '',
  };
}

function readRoomTable(r: rooms.Room): Room {
  const members: Member[] = [];
  for (let i = 0; i < r.membersLength(); i++) {
    const m = r.members(i);
    if (m) members.push({ userId: m.userId() ?? '', role: m.role(), joinedAt: Number(m.joinedAt()) });
  }
  return {
    roomId: r.roomId() ?? '',
    kind: r.kind(),
    name: r.name() ?? '',
    members,
    createdAt: Number(r.createdAt()),
    lastSeq: Number(r.lastSeq()),
  };
}

export function readRoom(bytes: Uint8Array): Room {
  return readRoomTable(rooms.Room.getRootAsRoom(root(bytes, PROM)));
}

export function readRoomList(bytes: Uint8Array): Room[] {
  const l = rooms.RoomList.getRootAsRoomList(root(bytes, PROM));
  const out: Room[] = [];
  for (let i = 0; i < l.roomsLength(); i++) {
    const r = l.rooms(i);
    if (r) out.push(readRoomTable(r));
  }
  return out;
}

function readMessageTable(m: rooms.Message): Message {
  return {
    messageId: m.messageId() ?? '',
    roomId: m.roomId() ?? '',
    seq: Number(m.seq()),
    senderUserId: m.senderUserId() ?? '',
    text: m.text() ?? '',
    createdAt: Number(m.createdAt()),
    clientMsgId: m.clientMsgId() ?? '',
  };
}

export function readMessage(bytes: Uint8Array): Message {
  return readMessageTable(rooms.Message.getRootAsMessage(root(bytes, PROM)));
}

export function readMessageList(bytes: Uint8Array): MessageList {
  const l = rooms.MessageList.getRootAsMessageList(root(bytes, PROM));
  const messages: Message[] = [];
  for (let i = 0; i < l.messagesLength(); i++) {
    const m = l.messages(i);
    if (m) messages.push(readMessageTable(m));
  }
  return { messages, hasMore: l.hasMore() };
}

export function readTypingEvent(bytes: Uint8Array): TypingEvent {
  const t = rooms.TypingEvent.getRootAsTypingEvent(root(bytes, PROM));
  return { roomId: t.roomId() ?? '', userId: t.userId() ?? '', typing: t.typing() };
}

function readReceiptTable(r: receipts.Receipt): Receipt {
  return {
    roomId: r.roomId() ?? '',
    userId: r.userId() ?? '',
    readSeq: Number(r.readSeq()),
    deliveredSeq: Number(r.deliveredSeq()),
    updatedAt: Number(r.updatedAt()),
  };
}

export function readReceipt(bytes: Uint8Array): Receipt {
  return readReceiptTable(receipts.Receipt.getRootAsReceipt(root(bytes, PRCP)));
}

export function readReceiptList(bytes: Uint8Array): Receipt[] {
  const l = receipts.ReceiptList.getRootAsReceiptList(root(bytes, PRCP));
  const out: Receipt[] = [];
  for (let i = 0; i < l.receiptsLength(); i++) {
    const r = l.receipts(i);
    if (r) out.push(readReceiptTable(r));
  }
  return out;
}

export function readUnreadList(bytes: Uint8Array): Unread[] {
  const l = receipts.UnreadList.getRootAsUnreadList(root(bytes, PRCP));
  const out: Unread[] = [];
  for (let i = 0; i < l.roomsLength(); i++) {
    const u = l.rooms(i);
    if (u) {
      out.push({
        roomId: u.roomId() ?? '',
        lastSeq: Number(u.lastSeq()),
        readSeq: Number(u.readSeq()),
        unread: Number(u.unread()),
      });
    }
  }
  return out;
}
