// The Electron window's settings against Electron's security checklist
// (https://www.electronjs.org/docs/latest/tutorial/security), checked without starting Electron.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from '../../src-main/shell/common/security-headers';
import {
  APP_ENTRY_URL,
  APP_SCHEME_PRIVILEGES,
  isNavigationAllowed,
  isPermissionAllowed,
  isRequestAllowed,
  isTrustedSender,
  secureWebPreferences,
  windowOpenPolicy,
} from '../../src-main/shell/electron/security';

function cspDirectives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name, values]),
  );
}

describe('window settings', () => {
  const prefs = secureWebPreferences('/app/dist/main/shell/preload/preload.js', { devTools: false }) as Record<string, unknown>;

  it('isolates the page: context isolation, sandbox, no Node.js anywhere', () => {
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and everything experimental off', () => {
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs).not.toHaveProperty('enableRemoteModule');
    expect(prefs.devTools).toBe(false);
  });

  it('loads a preload by absolute path', () => {
    expect(path.isAbsolute(prefs.preload as string)).toBe(true);
  });

  it('gives its scheme an origin and a secure context, never a CSP bypass', () => {
    expect(APP_SCHEME_PRIVILEGES.standard).toBe(true);
    expect(APP_SCHEME_PRIVILEGES.secure).toBe(true);
    expect(APP_SCHEME_PRIVILEGES).not.toHaveProperty('bypassCSP');
  });
});

describe('content security policy', () => {
  const csp = cspDirectives(CONTENT_SECURITY_POLICY);

  it('starts from nothing allowed', () => {
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'none'"]);
  });

  it("runs only the app's own scripts: no inline script, no eval", () => {
    expect(csp.get('script-src')).toEqual(["'self'"]);
  });

  it('names no remote source anywhere', () => {
    for (const [name, values] of csp) {
      for (const v of values) {
        expect(v, `${name} ${v}`).not.toMatch(/^(https?:|wss?:|\*|file:|'unsafe-eval'|'wasm-unsafe-eval')/);
      }
    }
    expect(csp.get('connect-src')).toEqual(["'self'"]);
  });

  it('is sent with every response, with nosniff', () => {
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(SECURITY_HEADERS['X-Content-Type-Options']).toBe('nosniff');
  });
});

describe('navigation, new windows, remote content, permissions', () => {
  it('lets the window reload the app and nothing else', () => {
    expect(isNavigationAllowed(APP_ENTRY_URL)).toBe(true);
    expect(isNavigationAllowed('fashion-detect://app/index.html#/review')).toBe(true);
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:5173/',
      'file:///etc/passwd',
      'fashion-detect://other/index.html',
      'fashion-detect://app@evil.example/index.html',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'about:blank',
      'not a url',
    ]) {
      expect(isNavigationAllowed(url), url).toBe(false);
    }
  });

  it('opens no new windows', () => {
    expect(windowOpenPolicy()).toEqual({ action: 'deny' });
  });

  it('cancels every request that leaves the app', () => {
    for (const url of ['https://example.com/x.js', 'http://localhost:8080/', 'ws://localhost/', 'wss://example.com/', 'file:///home/me/photo.jpg', 'ftp://example.com/']) {
      expect(isRequestAllowed(url), url).toBe(false);
    }
    for (const url of [APP_ENTRY_URL, 'fashion-detect://app/assets/index.js', 'blob:fashion-detect://app/0d8a', 'data:image/png;base64,AAAA']) {
      expect(isRequestAllowed(url), url).toBe(true);
    }
  });

  it('refuses every permission except writing to the clipboard from the app', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'midi', 'pointerLock', 'openExternal', 'clipboard-read', 'hid', 'serial', 'usb', 'fullscreen']) {
      expect(isPermissionAllowed(permission, APP_ENTRY_URL), permission).toBe(false);
    }
    expect(isPermissionAllowed('clipboard-sanitized-write', APP_ENTRY_URL)).toBe(true);
    expect(isPermissionAllowed('clipboard-sanitized-write', 'https://example.com/')).toBe(false);
    expect(isPermissionAllowed('clipboard-sanitized-write', undefined)).toBe(false);
  });

  it('answers IPC only from the app page', () => {
    expect(isTrustedSender(APP_ENTRY_URL)).toBe(true);
    expect(isTrustedSender('https://example.com/')).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });
});
