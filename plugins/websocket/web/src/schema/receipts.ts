// Generated parley.receipts classes (plugins/receipts/receipts.fbs).
export { Mark } from '@gen/parley/receipts/mark';
export { Receipt } from '@gen/parley/receipts/receipt';
export { ReceiptList } from '@gen/parley/receipts/receipt-list';
export { RoomRef } from '@gen/parley/receipts/room-ref';
export { UnreadList } from '@gen/parley/receipts/unread-list';
