// Entry point of the bundle (app.js): starts the client once the page is parsed.
// `?server=ws://host:port/ws` points the page at another bridge (development).
import { App } from './app';
import { defaultUrl } from './connection';

const server = new URLSearchParams(location.search).get('server');
new App(server || defaultUrl()).start();
