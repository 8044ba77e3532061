// The policies of security.ts handed to Electron: every window, frame and webview stays on the app
// (no navigation away, no new windows, no webviews), no permission but the clipboard write, and no
// request to the network or to file:// ever leaves the session.
import type { App, Session, WebContents } from './electron-api.js';
import { isNavigationAllowed, isPermissionAllowed, isRequestAllowed, windowOpenPolicy } from './security.js';

/**
 * Chromium match patterns of what is cancelled (Electron throws on an invalid one, and a file:
 * pattern has no host). isRequestAllowed decides; this only picks what it is asked about.
 */
const LEAVING_THE_APP = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'file:///*'];

function keepOnTheApp(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => windowOpenPolicy());
  for (const name of ['will-navigate', 'will-redirect', 'will-frame-navigate'] as const) {
    contents.on(name, (event, url) => {
      if (!isNavigationAllowed(event.url ?? url)) event.preventDefault();
    });
  }
}

/** Before the first window: every web contents made from now on, and the session's requests and permissions. */
export function lockDownSessions(app: App, session: Session): void {
  app.on('web-contents-created', (_event, contents) => keepOnTheApp(contents));
  session.setPermissionRequestHandler((_contents, permission, callback, details) => callback(isPermissionAllowed(permission, details?.requestingUrl)));
  session.setPermissionCheckHandler((_contents, permission, origin) => isPermissionAllowed(permission, origin));
  session.webRequest.onBeforeRequest({ urls: LEAVING_THE_APP }, (details, callback) => callback({ cancel: !isRequestAllowed(details.url) }));
}
