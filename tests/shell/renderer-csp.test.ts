// The built renderer runs under the app's Content-Security-Policy (common/security-headers.ts, the
// same for the desktop scheme and the browser build): Chromium loads the browser build with every
// document's CSP set to that one, on a workspace with labelled photos, and no violation may be
// reported. Skipped, with the reason, without Chromium (tests/helpers.ts findChromium) or a built renderer.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkspaceService } from '../../src-main/workspace/service';
import { CONTENT_SECURITY_POLICY } from '../../src-main/shell/common/security-headers';
import { CLIENT_HEADER, startWebServer, type WebServer } from '../../src-main/shell/web/server';
import { drawScene, findChromium, launchChromium, repoRoot, tempDir } from '../helpers';

const chromium = findChromium();
const rendererDir = path.join(repoRoot, 'dist/renderer');
const skipReason = !chromium.path
  ? chromium.reason
  : !fs.existsSync(path.join(rendererDir, 'index.html'))
    ? 'the renderer is not built (npm run build)'
    : undefined;
if (skipReason) console.log(`SKIP tests/shell/renderer-csp.test.ts: ${skipReason}`);

describe.skipIf(skipReason)('the renderer under the desktop CSP', () => {
  let dir: string;
  let service: WorkspaceService;
  let server: WebServer;
  let browser: Browser;

  beforeAll(async () => {
    dir = tempDir('fd-shell-csp-');
    const uploadsDir = path.join(dir, 'uploads');
    fs.mkdirSync(uploadsDir, { recursive: true });
    service = new WorkspaceService({ dataDir: path.join(dir, 'data'), uploadsDir, workers: 1, emit: (e) => server?.broadcast(e) });
    server = await startWebServer({ service, rendererDir, uploadsDir, port: 0 });
    for (const seed of [1, 2]) await (await drawScene(360, 480, seed)).jpeg().toFile(path.join(uploadsDir, `scene-${seed}.jpg`));
    const call = async (method: string, input: unknown) =>
      (await fetch(new URL(`/api/${method}`, server.url), { method: 'POST', headers: { 'content-type': 'application/json', [CLIENT_HEADER]: '1' }, body: JSON.stringify(input) })).json();
    expect(await call('openUploads', { names: ['scene-1.jpg', 'scene-2.jpg'] })).toMatchObject({ ok: true });
    for (let i = 0; i < 600; i++) {
      const ws = await call('getWorkspace', {});
      if (ws.value.images.every((im: { state: string }) => im.state === 'done' || im.state === 'failed')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchChromium(chromium.path!);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await service?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws the workspace with its thumbnails and viewer, with no CSP violation', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    const errors: string[] = [];
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('console', (m) => {
      if (/CSP violation|Content Security Policy/.test(m.text())) violations.push(m.text());
      else if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    // The page's policy is the one its document came with (the event stream is left alone: it never ends).
    await page.route('**/*', async (route) => {
      if (route.request().resourceType() !== 'document') return route.continue();
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': CONTENT_SECURITY_POLICY } });
    });
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelectorAll('img').length >= 2 && Array.from(document.querySelectorAll('img')).every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 60_000 });
    await page.locator('img').first().click();
    await page.waitForTimeout(1000);
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.close();
  });
});
