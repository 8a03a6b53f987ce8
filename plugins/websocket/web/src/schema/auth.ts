// Generated parley.auth classes (plugins/auth/auth.fbs).
export { FindUser } from '@gen/parley/auth/find-user';
export { Login } from '@gen/parley/auth/login';
export { Refresh } from '@gen/parley/auth/refresh';
export { Register } from '@gen/parley/auth/register';
export { Resume } from '@gen/parley/auth/resume';
export { Session } from '@gen/parley/auth/session';
export { User } from '@gen/parley/auth/user';
