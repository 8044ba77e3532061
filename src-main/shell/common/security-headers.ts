// The headers sent with everything the app serves, by the desktop shell's scheme and the browser
// build's HTTP server alike: the one CSP (contract/content-security-policy.ts) and the rest of a
// locked-down page (no sniffing, no framing, no referrer, no cross-origin openers or readers).
import { CONTENT_SECURITY_POLICY } from '../../contract/content-security-policy.js';

export { CONTENT_SECURITY_POLICY };

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
