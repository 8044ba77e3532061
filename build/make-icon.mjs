#!/usr/bin/env node
// Renders build/icon.svg to the PNG that electron-builder turns into each platform's icon
// (.icns for macOS, .ico for Windows, the sizes Linux desktops use). Run after changing the drawing.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const here = path.dirname(fileURLToPath(import.meta.url));
const svg = path.join(here, 'icon.svg');
await sharp(svg, { density: 144 }).resize(1024, 1024).png({ compressionLevel: 9, palette: true, quality: 90 }).toFile(path.join(here, 'icon.png'));
for (const size of [16, 32, 48, 64, 128, 256, 512]) {
  await sharp(svg, { density: 144 }).resize(size, size).png({ compressionLevel: 9 }).toFile(path.join(here, 'icons', `${size}x${size}.png`));
}
console.log('build/icon.png and build/icons/*.png written');
