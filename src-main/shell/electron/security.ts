// The window's security settings, as plain data and plain functions: main-window.ts and
// session-policy.ts hand them to Electron, and tests/shell checks them against Electron's security
// checklist without starting Electron. Nothing here imports electron. The headers of what the
// scheme serves (the CSP among them) are the browser build's too: common/security-headers.ts.

/** The app is served from its own privileged scheme, never from file:// or the network. */
export const APP_SCHEME = 'fashion-detect';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Privileges for protocol.registerSchemesAsPrivileged: "standard" gives the scheme an origin (so
 * 'self' in the CSP, relative URLs and storage work), "secure" makes it a secure context, and
 * fetch/CORS support lets Vite's module scripts and the image requests load. No bypassCSP.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: true,
  stream: true,
  codeCache: true,
} as const;

/**
 * The main window's webPreferences: the renderer is a sandboxed web page with no Node.js, and the
 * preload talks to it only through contextBridge (context isolation).
 */
export function secureWebPreferences(preloadPath: string, options: { devTools: boolean }) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: options.devTools,
  } as const;
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** True for a URL of the app itself (a reload or an in-app link); everything else is refused. */
export function isAppUrl(url: string): boolean {
  const parsed = parseUrl(url);
  return parsed !== undefined && parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
}

/** will-navigate / will-redirect / will-frame-navigate: the window stays on the app. */
export function isNavigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

/** setWindowOpenHandler: no new windows, ever (window.open, target=_blank, middle-click). */
export function windowOpenPolicy(): { action: 'deny' } {
  return { action: 'deny' };
}

/**
 * Requests the renderer's session may make. The app's scheme and the renderer's own blob:/data:
 * URLs only; http(s), ws(s), ftp and file:// are cancelled, so no remote content can load even if
 * a page tried. devtools: stays reachable for a developer's DevTools.
 */
export function isRequestAllowed(url: string): boolean {
  if (isAppUrl(url)) return true;
  const parsed = parseUrl(url);
  if (!parsed) return false;
  return parsed.protocol === 'blob:' || parsed.protocol === 'data:' || parsed.protocol === 'devtools:';
}

/**
 * Permissions (camera, microphone, geolocation, notifications, USB, HID, clipboard reads...): none
 * is needed by the app, so every request and check is refused. Writing to the clipboard (copying a
 * COCO snippet) is the one exception, and only for the app's own page.
 */
const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

export function isPermissionAllowed(permission: string, requestingUrl: string | undefined): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && requestingUrl !== undefined && isAppUrl(requestingUrl);
}

/** IPC is answered only for the app's own page, never for a frame that navigated elsewhere. */
export function isTrustedSender(senderUrl: string | undefined): boolean {
  return senderUrl !== undefined && isAppUrl(senderUrl);
}
