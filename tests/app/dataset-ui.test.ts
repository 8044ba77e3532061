// Clean data sets in the window (issue 12), as a person does it in the browser build, driven through
// accessible names: open 24 distinct photos and an altered copy of one, import their boxes (one shoe
// far off at the top of its photo), see the pair under Show "Near-duplicates", press "Keep this one",
// undo it with Ctrl+Z, export with near-duplicates left out and read the file, export a split (two
// downloads), then Show "Unusual boxes": the far-off shoe first, its tag marked with the reason, and
// Enter accepts and goes on. Needs the build (npm run build). Screenshots go to test-results/app/.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, repoRoot, tempDir } from '../helpers';
import { api, openWindow, startServer, stopServer, viewerSettled, type Server } from './browser';
import { distinctPhotos, writeOutfitBoxes } from './dataset-photos';

const chromium = findChromium();
const hasChromium = chromium.path !== undefined;
if (!hasChromium) console.log(`SKIP tests/app/dataset-ui.test.ts: ${chromium.reason}`);
const shots = path.join(repoRoot, 'test-results', 'app');
const PHOTOS = 24;
const COPY = 'copy-of-the-second.jpg';

/** Chooses files through a button that opens a file picker ("Open images", "Import COCO…"). */
async function chooseFiles(page: Page, button: string, files: string[]): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: button, exact: true }).click()]);
  await chooser.setFiles(files);
}

/** Closes the messages, so a screenshot shows what is under them. */
async function dismissMessages(page: Page): Promise<void> {
  const buttons = page.getByRole('status').getByRole('button', { name: 'Dismiss' });
  // One at a time: the list moves up, and an info message may go away by itself meanwhile.
  for (let i = 0; i < 10 && (await buttons.count()) > 0; i++) await buttons.first().click({ timeout: 2000 }).catch(() => undefined);
}

const show = (page: Page, value: string) => page.getByRole('combobox', { name: 'Show' }).selectOption(value);

describe.skipIf(!hasChromium)('clean data sets in the window', () => {
  let server: Server | undefined;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let dir: string;
  let names: string[];
  const idOf = async (name: string) => (await api(server!, 'getWorkspace')).images.find((i: { name: string }) => i.name === name).id as string;
  /** The near-duplicate groups as the main side has them, by photo name, the kept one first. */
  const groupsByName = async () => {
    const ws = await api(server!, 'getWorkspace');
    const nameOf = (id: string) => ws.images.find((i: { id: string }) => i.id === id).name;
    const found = await api(server!, 'getNearDuplicates', { hashMissing: false });
    return found.groups.map((g: { images: { id: string }[]; chosen: boolean }) => ({ names: g.images.map((i) => nameOf(i.id)), chosen: g.chosen }));
  };

  beforeAll(async () => {
    fs.mkdirSync(shots, { recursive: true });
    dir = tempDir('fd-dataset-ui-');
    names = await distinctPhotos(dir, PHOTOS);
    // Resized to 60% and recompressed: the same picture to a person, another file to the computer.
    const { width = 0 } = await sharp(path.join(dir, names[1])).metadata();
    await sharp(path.join(dir, names[1])).resize(Math.round(width * 0.6)).jpeg({ quality: 60 }).toFile(path.join(dir, COPY));
    server = await startServer(tempDir('fd-dataset-ui-data-'));
    browser = await launchChromium(chromium.path!);
    page = await openWindow(browser, server, pageErrors, { acceptDownloads: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stopServer(server);
  });

  it('opens the photos and imports their boxes, a shoe far off at the top of one photo', async () => {
    await chooseFiles(page, 'Open images', [...names, COPY].map((n) => path.join(dir, n)));
    await page.getByRole('listbox', { name: 'Images' }).getByRole('option').first().waitFor();
    // Scored as a model's boxes would be: Enter accepts them in the review below.
    const coco = await writeOutfitBoxes(dir, [...names, COPY], path.join(tempDir('fd-dataset-ui-coco-'), 'outfits.json'), names[5]);
    const doc = JSON.parse(fs.readFileSync(coco, 'utf8'));
    for (const a of doc.annotations) a.score = 0.9;
    fs.writeFileSync(coco, JSON.stringify(doc));
    await page.getByTestId('import-coco-input').setInputFiles(coco);
    await page.getByRole('status').getByText(`Imported ${doc.annotations.length} boxes for ${PHOTOS + 1} images`).waitFor();
  });

  it('shows the photo and its altered copy side by side under "Near-duplicates", the larger one kept', async () => {
    await show(page, 'near-duplicates');
    const groups = page.getByRole('list', { name: 'Near-duplicate groups' }).getByRole('listitem');
    await groups.first().waitFor({ timeout: 60_000 });
    await expect(groups.count()).resolves.toBe(1);
    // The option counts the photos in groups, as the others count theirs.
    await expect(page.getByRole('combobox', { name: 'Show' }).locator('option[value=near-duplicates]').textContent()).resolves.toBe('Near-duplicates (2)');
    const original = page.getByRole('group', { name: `${names[1]}, kept` });
    const copy = page.getByRole('group', { name: new RegExp(`^${COPY.replace(/\./g, '\\.')}, \\d+ bits? from the kept one$`) });
    await expect(original.count()).resolves.toBe(1);
    await expect(original.getByText('Kept', { exact: true }).count()).resolves.toBe(1);
    await expect(original.getByRole('button', { name: 'Keep this one' }).count()).resolves.toBe(0);
    // Side by side: one row.
    const [a, b] = [(await original.boundingBox())!, (await copy.boundingBox())!];
    expect(Math.abs(a.y - b.y)).toBeLessThan(2);
    expect(b.x).toBeGreaterThan(a.x + a.width - 1);
    // A thumbnail shows its photo in the viewer.
    await copy.getByRole('button', { name: `Show ${COPY}` }).click();
    await page.waitForFunction((n) => (document.querySelector('img.photo') as HTMLImageElement | null)?.alt === n, COPY);
    await dismissMessages(page);
    await page.screenshot({ path: path.join(shots, '20-near-duplicates.png') });
    expect(await groupsByName()).toEqual([{ names: [names[1], COPY], chosen: false }]);
  });

  it('keeps the copy with "Keep this one", and takes it back with Ctrl+Z', async () => {
    await page.getByRole('group', { name: new RegExp(`^${COPY.replace(/\./g, '\\.')},`) }).getByRole('button', { name: 'Keep this one' }).click();
    await page.getByRole('group', { name: `${COPY}, kept` }).waitFor();
    await expect(page.getByRole('group', { name: new RegExp(`^${names[1].replace(/\./g, '\\.')}, \\d+ bits?`) }).getByRole('button', { name: 'Keep this one' }).count()).resolves.toBe(1);
    expect(await groupsByName()).toEqual([{ names: [COPY, names[1]], chosen: true }]);
    await dismissMessages(page);
    await page.screenshot({ path: path.join(shots, '21-near-duplicates-kept.png') });
    await expect(page.getByRole('button', { name: 'Undo', exact: true }).getAttribute('title')).resolves.toMatch(/Keep this one/);
    await page.getByRole('application', { name: 'Photo viewer' }).focus();
    await page.keyboard.press('Control+z');
    await page.getByRole('group', { name: `${names[1]}, kept` }).waitFor();
    expect((await groupsByName())[0].names).toEqual([names[1], COPY]);
  });

  it('exports COCO without the near-duplicates left out, and a split as two downloads', async () => {
    await page.getByRole('checkbox', { name: 'Leave out near-duplicates' }).check();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export COCO', exact: true }).click()]);
    const file = path.join(tempDir('fd-dataset-ui-export-'), download.suggestedFilename());
    await download.saveAs(file);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    const exported = doc.images.map((i: { file_name: string }) => i.file_name);
    expect(exported).toHaveLength(PHOTOS);
    expect(exported).toContain(names[1]);
    expect(exported).not.toContain(COPY);
    await page.getByRole('status').getByText(/1 near-duplicate left out/).waitFor();

    // Both photos, each part a file of its own; the pair on one side.
    await page.getByRole('checkbox', { name: 'Leave out near-duplicates' }).uncheck();
    await page.getByRole('checkbox', { name: 'Split train/validation' }).check();
    await expect(page.getByRole('spinbutton', { name: 'Validation share' }).inputValue()).resolves.toBe('0.15');
    const downloads: import('playwright-core').Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByRole('button', { name: 'Export COCO', exact: true }).click();
    await expect.poll(() => downloads.length, { timeout: 20_000 }).toBe(2);
    const parts = await Promise.all(downloads.map(async (d) => ({ name: d.suggestedFilename(), doc: JSON.parse(fs.readFileSync((await d.path())!, 'utf8')) })));
    expect(parts.map((p) => p.name).sort()).toEqual([expect.stringMatching(/\.train\.coco\.json$/), expect.stringMatching(/\.val\.coco\.json$/)]);
    const sides = parts.map((p) => new Set(p.doc.images.map((i: { file_name: string }) => i.file_name)));
    expect(sides[0].size + sides[1].size).toBe(PHOTOS + 1);
    expect(sides.filter((s) => s.has(names[1]) && s.has(COPY))).toHaveLength(1);
    await page.getByRole('checkbox', { name: 'Split train/validation' }).uncheck();
  });

  it('lists the photo with the far-off shoe first under "Unusual boxes", its tag marked with the reason; Enter accepts and goes on', async () => {
    await show(page, 'unusual');
    const list = page.getByRole('listbox', { name: 'Images' });
    const first = list.getByRole('option').first();
    await first.waitFor();
    await expect(first.getAttribute('aria-label')).resolves.toMatch(new RegExp(`^${names[5].replace(/\./g, '\\.')},.*; unusually .*high.* footwear`));
    await first.click();
    await viewerSettled(page);
    const mark = page.locator('[data-unusual]');
    await mark.waitFor();
    await expect(mark.count()).resolves.toBe(1);
    await expect(mark.getAttribute('title')).resolves.toMatch(/^Looks wrong: unusually .*high.* footwear/);
    // The box under the mark is the shoe at the top, and says why to a screen reader too.
    const odd = await api(server!, 'getImage', { id: await idOf(names[5]) });
    const shoe = [...odd.boxes].sort((x: { bbox: number[] }, y: { bbox: number[] }) => x.bbox[1] - y.bbox[1])[0];
    await expect(mark.getAttribute('data-unusual')).resolves.toBe(shoe.id);
    const description = await page.locator(`[data-box-id="${shoe.id}"]`).evaluate((el) => document.getElementById(el.getAttribute('aria-describedby')!)?.textContent);
    expect(description).toMatch(/^Looks wrong: unusually .*high.* footwear/);
    await dismissMessages(page);
    await mark.hover();
    await page.screenshot({ path: path.join(shots, '22-unusual-boxes.png') });

    // Enter: the photo's boxes are accepted, and the next photo of this list is shown.
    const listed = await list.getByRole('option').count();
    await page.getByRole('application', { name: 'Photo viewer' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await api(server!, 'getImage', { id: odd.id })).boxes.every((b: { verified: boolean }) => b.verified)).toBe(true);
    if (listed > 1) await page.waitForFunction((n) => (document.querySelector('img.photo') as HTMLImageElement | null)?.alt !== n, names[5]);
    else await page.getByRole('status').getByText('No photo after this one in the list').waitFor();
    expect(pageErrors).toEqual([]);
  });
});
