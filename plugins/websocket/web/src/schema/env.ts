// The generated parley (envelope) classes the client uses. flatc's own barrel
// files export only what the root_type reaches, so each class is named here.
export { Envelope } from '@gen/parley/envelope';
export { Kind } from '@gen/parley/kind';
export { Status } from '@gen/parley/status';
