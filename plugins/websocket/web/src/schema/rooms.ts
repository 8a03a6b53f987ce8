// Generated parley.rooms classes (plugins/rooms/rooms.fbs).
export { Create } from '@gen/parley/rooms/create';
export { History } from '@gen/parley/rooms/history';
export { Message } from '@gen/parley/rooms/message';
export { MessageList } from '@gen/parley/rooms/message-list';
export { OpenDirect } from '@gen/parley/rooms/open-direct';
export { Room } from '@gen/parley/rooms/room';
export { RoomKind } from '@gen/parley/rooms/room-kind';
export { RoomList } from '@gen/parley/rooms/room-list';
export { Send } from '@gen/parley/rooms/send';
export { Typing } from '@gen/parley/rooms/typing';
export { TypingEvent } from '@gen/parley/rooms/typing-event';
