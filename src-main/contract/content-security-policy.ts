/**
 * Sent as a header with every page the app serves, by the desktop shell and the browser build alike. Only the app's own scripts run (no inline
 * script, no eval); images come from the app's scheme (which serves only files the person opened),
 * or blob:/data: URLs the renderer makes itself; nothing can be fetched from anywhere else.
 * Inline styles are allowed because Svelte writes style attributes for box positions.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "child-src 'none'",
  "worker-src 'none'",
  "media-src 'none'",
  "manifest-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
