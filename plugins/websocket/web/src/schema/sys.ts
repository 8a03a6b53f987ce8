// Generated parley.sys classes (protocol/sys.fbs).
export { Hello } from '@gen/parley/sys/hello';
export { Welcome } from '@gen/parley/sys/welcome';
