// The controller: signs in (or resumes the saved session), keeps the Store in
// step with the server's answers and events, and wires the page's controls.
// Flow: connect -> sys.hello -> auth.resume | login | register -> rooms.list +
// receipts.unread -> per room: rooms.history, receipts.get when opened.
import { Connection, CallError, ConnState, defaultUrl } from './connection';
import { byId, randomId, show } from './dom';
import * as proto from './proto';
import { ChatMessage, RoomState, Store, loadSession, saveSession } from './store';
import * as view from './view';

const HISTORY_PAGE = 50;
const TYPING_SEND_EVERY_MS = 3000;  // refresh "typing" while the user keeps typing
const TYPING_IDLE_MS = 4000;        // then say "stopped" after this much quiet
const TYPING_SHOW_MS = 6000;        // a peer's indicator fades if no refresh comes

function describe(e: unknown): string {
  if (e instanceof CallError) {
    switch (e.status) {
      case proto.Status.Unauthenticated: return 'Wrong phone number or password.';
      case proto.Status.AlreadyExists: return 'That phone number is already registered. Sign in instead.';
      case proto.Status.NotFound: return 'Nobody with that phone number uses Parley yet.';
      case proto.Status.ResourceExhausted: return 'Too many attempts. Please wait a little and try again.';
      case proto.Status.Unavailable: return 'Not connected to the server. Retrying…';
      default: return e.message || e.statusName;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

function splitPhones(text: string): string[] {
  return text.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
}

export class App {
  private store = new Store();
  private conn: Connection;
  private registering = false;
  private signedIn = false;
  private renderQueued = false;
  private typingSentAt = 0;
  private typingStopTimer = 0;

  constructor(url = defaultUrl()) {
    this.conn = new Connection(url, {
      onReady: () => void this.onConnected(),
      onEvent: (method, payload) => this.onEvent(method, payload),
      onState: (state, detail) => this.onConnState(state, detail),
    });
  }

  start(): void {
    this.bindAuthForm();
    this.bindMain();
    if (!loadSession()) this.showView('auth');
    this.conn.start();
    // Expire typing indicators even when nothing else changes.
    window.setInterval(() => {
      const now = Date.now();
      for (const st of this.store.rooms.values()) {
        for (const [id, until] of st.typing) if (until <= now) { st.typing.delete(id); this.queueRender(); }
      }
    }, 1000);
    document.addEventListener('visibilitychange', () => this.markCurrentRead());
  }

  // ------------------------------------------------------------ session ---

  private async onConnected(): Promise<void> {
    const saved = loadSession();
    if (!saved) {
      this.showView('auth');
      return;
    }
    try {
      const s = proto.readSession(await this.conn.call('auth.resume', proto.resume(saved.token)));
      await this.enter({ ...s, refreshToken: saved.refreshToken });
    } catch (e) {
      if (e instanceof CallError && e.status === proto.Status.Unauthenticated && saved.refreshToken) {
        try {
          const s = proto.readSession(await this.conn.call('auth.refresh', proto.refresh(saved.refreshToken)));
          await this.enter(s);
          return;
        } catch (e2) {
          if (!(e2 instanceof CallError && e2.status === proto.Status.Unauthenticated)) return;
        }
      } else if (!(e instanceof CallError && e.status === proto.Status.Unauthenticated)) {
        return;  // a network problem: the connection retries and we try again
      }
      this.signOutLocally('Your session has expired. Please sign in again.');
    }
  }

  private async enter(s: proto.Session): Promise<void> {
    saveSession({ token: s.token, refreshToken: s.refreshToken, user: s.user });
    if (this.store.me && this.store.me.userId !== s.user.userId) this.store.reset();
    this.store.me = s.user;
    this.store.contacts.learn(s.user);
    this.signedIn = true;
    this.showView('main');
    view.renderMe(this.store);
    await this.sync();
  }

  // (Re)loads the room list and unread counters, then catches up the open room.
  private async sync(): Promise<void> {
    const [roomList, unread] = await Promise.all([
      this.conn.call('rooms.list').then(proto.readRoomList),
      this.conn.call('receipts.unread').then(proto.readUnreadList),
    ]);
    const seen = new Set<string>();
    for (const r of roomList) {
      const st = this.store.upsertRoom(r);
      st.loaded = false;  // events may have been missed while offline
      seen.add(r.roomId);
    }
    for (const id of [...this.store.rooms.keys()]) if (!seen.has(id)) this.store.rooms.delete(id);
    for (const u of unread) {
      const st = this.store.rooms.get(u.roomId);
      if (st) st.readSeq = Math.max(st.readSeq, u.readSeq);
    }
    this.queueRender();
    for (const st of this.store.rooms.values()) {
      if (st.room.lastSeq > 0) this.conn.call('receipts.mark_delivered', proto.mark(st.room.roomId, st.room.lastSeq)).catch(() => undefined);
    }
    if (this.store.current && this.store.rooms.has(this.store.current)) await this.loadRoom(this.store.current);
    else this.store.current = null;
    // Last-message previews for the list (newest first; bounded).
    const needPreview = this.store.sortedRooms().filter((st) => !st.loaded && st.room.lastSeq > 0).slice(0, 30);
    await Promise.all(needPreview.map(async (st) => {
      const list = proto.readMessageList(await this.conn.call('rooms.history', proto.history(st.room.roomId, 0, 0, 1)));
      for (const m of list.messages) if (!st.loaded) { st.lastText = m.text; st.lastAt = Math.max(st.lastAt, m.createdAt); }
    }).map((p) => p.catch(() => undefined)));
    this.queueRender();
  }

  private signOutLocally(message = ''): void {
    saveSession(null);
    this.signedIn = false;
    this.store.reset();
    this.showView('auth');
    this.authError(message);
  }

  // -------------------------------------------------------------- events ---

  private onEvent(method: string, payload: Uint8Array): void {
    try {
      switch (method) {
        case 'rooms.message': return this.onMessage(proto.readMessage(payload));
        case 'rooms.updated': return this.onRoomUpdated(proto.readRoom(payload));
        case 'rooms.typing': return this.onTyping(proto.readTypingEvent(payload));
        case 'receipts.updated': return this.onReceipt(proto.readReceipt(payload));
        default: return;
      }
    } catch (e) {
      console.warn(`parley: bad ${method} event`, e);
    }
  }

  private onMessage(m: proto.Message): void {
    const st = this.store.rooms.get(m.roomId);
    if (!st) {
      // A room we have not heard of yet (its rooms.updated may still be coming).
      void this.conn.call('rooms.list').then((rooms) => {
        for (const r of proto.readRoomList(rooms)) this.store.upsertRoom(r);
        this.onMessage(m);
      }).catch(() => undefined);
      return;
    }
    const gap = st.loaded && m.seq > st.room.lastSeq + 1;
    this.store.putMessage(st, m);
    st.typing.delete(m.senderUserId);
    if (m.senderUserId === this.store.me?.userId) st.readSeq = Math.max(st.readSeq, m.seq);  // my other device
    this.conn.call('receipts.mark_delivered', proto.mark(m.roomId, m.seq)).catch(() => undefined);
    if (gap) void this.loadRoom(m.roomId);
    this.markCurrentRead();
    this.queueRender();
  }

  private onRoomUpdated(room: proto.Room): void {
    if (!this.store.isMember(room)) {
      this.store.rooms.delete(room.roomId);
      if (this.store.current === room.roomId) this.store.current = null;
    } else {
      this.store.upsertRoom(room);
    }
    this.queueRender();
  }

  private onTyping(t: proto.TypingEvent): void {
    const st = this.store.rooms.get(t.roomId);
    if (!st || t.userId === this.store.me?.userId) return;
    if (t.typing) st.typing.set(t.userId, Date.now() + TYPING_SHOW_MS);
    else st.typing.delete(t.userId);
    this.queueRender();
  }

  private onReceipt(r: proto.Receipt): void {
    const st = this.store.rooms.get(r.roomId);
    if (!st) return;
    if (r.userId === this.store.me?.userId) {
      st.readSeq = Math.max(st.readSeq, r.readSeq);
    } else {
      const prev = st.receipts.get(r.userId);
      st.receipts.set(r.userId, {
        ...r,
        readSeq: Math.max(r.readSeq, prev?.readSeq ?? 0),
        deliveredSeq: Math.max(r.deliveredSeq, prev?.deliveredSeq ?? 0),
      });
    }
    this.queueRender();
  }

  private onConnState(state: ConnState, detail?: string): void {
    view.renderConnState(state, detail);
  }

  // --------------------------------------------------------------- rooms ---

  private async openRoom(roomId: string): Promise<void> {
    this.store.current = roomId;
    this.render();
    const input = byId<HTMLTextAreaElement>('message-input');
    input.value = '';
    input.focus();
    const st = this.store.rooms.get(roomId);
    if (st && !st.loaded) await this.loadRoom(roomId);
    this.markCurrentRead();
  }

  // Latest page of history plus everyone's receipts.
  private async loadRoom(roomId: string): Promise<void> {
    const st = this.store.rooms.get(roomId);
    if (!st) return;
    try {
      const [list, receipts] = await Promise.all([
        this.conn.call('rooms.history', proto.history(roomId, 0, 0, HISTORY_PAGE)).then(proto.readMessageList),
        this.conn.call('receipts.get', proto.receiptsRoomRef(roomId)).then(proto.readReceiptList),
      ]);
      const unsent = st.messages.filter((m) => m.seq === 0);
      st.messages = unsent;
      for (const m of list.messages) this.store.putMessage(st, m);
      st.hasMore = list.hasMore;
      st.loaded = true;
      for (const r of receipts) this.onReceipt(r);
    } catch (e) {
      console.warn('parley: could not load the room', e);
    }
    this.markCurrentRead();
    this.queueRender();
  }

  private async loadEarlier(): Promise<void> {
    const st = this.store.current ? this.store.rooms.get(this.store.current) : undefined;
    const first = st?.messages.find((m) => m.seq > 0);
    if (!st || !first) return;
    const list = proto.readMessageList(await this.conn.call('rooms.history',
      proto.history(st.room.roomId, first.seq, 0, HISTORY_PAGE)));
    for (const m of list.messages) this.store.putMessage(st, m);
    st.hasMore = list.hasMore;
    this.queueRender();
  }

  // The open room counts as read while the page is visible.
  private markCurrentRead(): void {
    const st = this.store.current ? this.store.rooms.get(this.store.current) : undefined;
    if (!st || !st.loaded || document.visibilityState === 'hidden') return;
    const seq = st.room.lastSeq;
    if (seq <= st.readSeq) return;
    st.readSeq = seq;
    this.conn.call('receipts.mark_read', proto.mark(st.room.roomId, seq)).catch(() => {
      st.readSeq = 0;  // try again on the next chance
    });
    this.queueRender();
  }

  private async sendText(text: string): Promise<void> {
    const st = this.store.current ? this.store.rooms.get(this.store.current) : undefined;
    const me = this.store.me;
    if (!st || !me) return;
    const msg: ChatMessage = {
      key: randomId(), seq: 0, senderUserId: me.userId, text, createdAt: Date.now(),
      clientMsgId: '', failed: false,
    };
    msg.clientMsgId = msg.key;
    st.messages.push(msg);
    st.lastText = text;
    st.lastAt = msg.createdAt;
    this.stopTyping();
    this.render();
    await this.deliver(st, msg);
  }

  // rooms.send is idempotent per client_msg_id, so a retry never duplicates.
  private async deliver(st: RoomState, msg: ChatMessage): Promise<void> {
    msg.failed = false;
    try {
      const m = proto.readMessage(await this.conn.call('rooms.send', proto.send(st.room.roomId, msg.clientMsgId, msg.text)));
      this.store.putMessage(st, m);
      st.readSeq = Math.max(st.readSeq, m.seq);
      this.conn.call('receipts.mark_read', proto.mark(st.room.roomId, m.seq)).catch(() => undefined);
    } catch (e) {
      console.warn('parley: send failed', e);
      msg.failed = true;
    }
    this.queueRender();
  }

  private startTyping(): void {
    const roomId = this.store.current;
    if (!roomId) return;
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_SEND_EVERY_MS) {
      this.typingSentAt = now;
      this.conn.call('rooms.typing', proto.typing(roomId, true)).catch(() => undefined);
    }
    window.clearTimeout(this.typingStopTimer);
    this.typingStopTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    window.clearTimeout(this.typingStopTimer);
    if (!this.typingSentAt || !this.store.current) return;
    this.typingSentAt = 0;
    this.conn.call('rooms.typing', proto.typing(this.store.current, false)).catch(() => undefined);
  }

  // Finds each phone number's user, remembering names for later.
  private async lookUp(phones: string[]): Promise<proto.User[]> {
    const users: proto.User[] = [];
    for (const phone of phones) {
      try {
        const u = proto.readUserPayload(await this.conn.call('auth.find_user', proto.findUser(phone)));
        this.store.contacts.learn(u);
        users.push(u);
      } catch (e) {
        if (e instanceof CallError && e.status === proto.Status.NotFound) throw new Error(`Nobody with the number ${phone} uses Parley yet.`);
        if (e instanceof CallError && e.status === proto.Status.InvalidArgument) throw new Error(`${phone} is not a phone number (use the +country format).`);
        throw e;
      }
    }
    return users;
  }

  // ------------------------------------------------------------- the page ---

  private showView(which: 'auth' | 'main' | 'splash'): void {
    show(byId('auth-view'), which === 'auth');
    show(byId('main-view'), which === 'main');
    show(byId('splash-view'), which === 'splash');
    if (which === 'auth') byId<HTMLInputElement>('phone').focus();
  }

  private authError(message: string): void {
    const el = byId('auth-error');
    el.textContent = message;
    show(el, !!message);
  }

  private setRegistering(on: boolean): void {
    this.registering = on;
    show(byId('display-name-row'), on);
    byId('auth-lead').textContent = on ? 'Create your account' : 'Sign in with your phone number';
    byId('auth-submit').textContent = on ? 'Create account' : 'Sign in';
    byId('auth-switch-text').textContent = on ? 'Already have an account?' : 'New to Parley?';
    byId('auth-switch').textContent = on ? 'Sign in' : 'Create an account';
    byId<HTMLInputElement>('password').autocomplete = on ? 'new-password' : 'current-password';
    this.authError('');
  }

  private bindAuthForm(): void {
    byId('auth-switch').addEventListener('click', () => this.setRegistering(!this.registering));
    byId<HTMLFormElement>('auth-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const phone = byId<HTMLInputElement>('phone').value.trim();
      const password = byId<HTMLInputElement>('password').value;
      const name = byId<HTMLInputElement>('display-name').value.trim();
      if (!phone || !password) return this.authError('Enter your phone number and password.');
      if (password.length < 8) return this.authError('The password needs at least 8 characters.');
      if (this.registering && !name) return this.authError('Tell us your name.');
      const button = byId<HTMLButtonElement>('auth-submit');
      button.disabled = true;
      this.authError('');
      try {
        const payload = this.registering ? proto.register(phone, password, name) : proto.login(phone, password);
        const s = proto.readSession(await this.conn.call(this.registering ? 'auth.register' : 'auth.login', payload));
        byId<HTMLInputElement>('password').value = '';
        await this.enter(s);
      } catch (e) {
        if (e instanceof CallError && e.status === proto.Status.InvalidArgument) {
          this.authError(e.message.includes('phone') ? 'Use your full number with country code, e.g. +1 555 010 2030.' : e.message);
        } else {
          this.authError(describe(e));
        }
      } finally {
        button.disabled = false;
      }
    });
  }

  private bindMain(): void {
    byId('logout').addEventListener('click', async () => {
      if (this.conn.online) await this.conn.call('auth.logout').catch(() => undefined);
      this.signOutLocally();
    });
    byId('back').addEventListener('click', () => {
      this.store.current = null;
      this.render();
    });

    const input = byId<HTMLTextAreaElement>('message-input');
    const submit = () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      input.style.height = '';
      void this.sendText(text);
    };
    byId<HTMLFormElement>('composer').addEventListener('submit', (ev) => {
      ev.preventDefault();
      submit();
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        submit();
      }
    });
    input.addEventListener('input', () => {
      input.style.height = '';
      input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
      if (input.value.trim()) this.startTyping();
      else this.stopTyping();
    });

    this.bindDialog('new-chat', 'chat-dialog', 'chat-form', 'chat-error', async () => {
      const phone = byId<HTMLInputElement>('chat-phone').value.trim();
      if (!phone) throw new Error('Enter a phone number.');
      const [peer] = await this.lookUp([phone]);
      if (peer.userId === this.store.me?.userId) throw new Error('That is your own number.');
      const room = proto.readRoom(await this.conn.call('rooms.open_direct', proto.openDirect(peer.userId)));
      this.store.upsertRoom(room);
      return room.roomId;
    });
    this.bindDialog('new-group', 'group-dialog', 'group-form', 'group-error', async () => {
      const name = byId<HTMLInputElement>('group-name').value.trim();
      if (!name) throw new Error('Give the group a name.');
      const phones = splitPhones(byId<HTMLTextAreaElement>('group-phones').value);
      const users = await this.lookUp(phones);
      const ids = [...new Set(users.map((u) => u.userId))].filter((id) => id !== this.store.me?.userId);
      const room = proto.readRoom(await this.conn.call('rooms.create', proto.createRoom(name, ids)));
      const st = this.store.upsertRoom(room);
      st.lastAt = Date.now();
      return room.roomId;
    });
  }

  private bindDialog(openerId: string, dialogId: string, formId: string, errorId: string,
                     action: () => Promise<string>): void {
    const dialog = byId<HTMLDialogElement>(dialogId);
    const form = byId<HTMLFormElement>(formId);
    const error = byId(errorId);
    byId(openerId).addEventListener('click', () => {
      form.reset();
      show(error, false);
      dialog.showModal();
    });
    for (const b of dialog.querySelectorAll('[data-close]')) b.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const buttons = form.querySelectorAll('button');
      buttons.forEach((b) => (b.disabled = true));
      try {
        const roomId = await action();
        // Close first: while the modal is open the chat behind it is inert.
        dialog.close();
        void this.openRoom(roomId);
      } catch (e) {
        error.textContent = describe(e);
        show(error, true);
      } finally {
        buttons.forEach((b) => (b.disabled = false));
      }
    });
  }

  private queueRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    // A timer rather than requestAnimationFrame: rAF pauses in hidden tabs,
    // and the unread badge in the title should still update there.
    window.setTimeout(() => {
      this.renderQueued = false;
      this.render();
    }, 16);
  }

  private render(): void {
    if (!this.signedIn) return;
    view.renderRoomList(this.store, (id) => void this.openRoom(id));
    view.renderChatHeader(this.store);
    view.renderMessages(this.store, {
      loadEarlier: () => void this.loadEarlier().catch(() => undefined),
      retry: (m) => {
        const st = this.store.current ? this.store.rooms.get(this.store.current) : undefined;
        if (st) void this.deliver(st, m);
      },
    });
    const total = [...this.store.rooms.values()].reduce((n, st) => n + this.store.unread(st), 0);
    document.title = total ? `(${total}) Parley` : 'Parley';
  }
}
