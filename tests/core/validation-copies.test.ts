// Training leaves out the photos that copy a validation photo (core/train/validation-copies.ts), so
// the validation figures never measure a photo the model learnt from.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainImage } from '../../src-main/core/train/dataset';
import { copiesOfValidation, describeValidationCopies } from '../../src-main/core/train/validation-copies';
import { drawScene, hasShared, sharedDataset, tempDir } from '../helpers';

const image = (file: string, tagged = false): TrainImage => ({
  id: 0,
  file,
  fileName: path.basename(file),
  width: 0,
  height: 0,
  boxes: [],
  ...(tagged ? { negativeWeights: new Float32Array(1) } : {}),
});

describe('copies of validation photos among the training photos', () => {
  let dir: string;
  const at = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = tempDir('fd-val-copies-');
    for (let k = 1; k <= 6; k++) await (await drawScene(360, 540, k)).jpeg().toFile(at(`scene-${k}.jpg`));
    await sharp(at('scene-1.jpg')).flop().jpeg({ quality: 70 }).toFile(at('mirrored-1.jpg'));
    await sharp(at('scene-2.jpg')).resize({ width: 180 }).jpeg({ quality: 55 }).toFile(at('small-2.jpg'));
    await sharp(at('scene-3.jpg')).extract({ left: 20, top: 30, width: 320, height: 480 }).toFile(at('cropped-3.png'));
  });

  it('finds mirrored, shrunk and cropped copies, boxed or tagged, and nothing among distinct photos', async () => {
    const val = [1, 2, 3].map((k) => image(at(`scene-${k}.jpg`)));
    const train = [image(at('scene-4.jpg')), image(at('mirrored-1.jpg')), image(at('small-2.jpg'), true), image(at('scene-5.jpg')), image(at('cropped-3.png')), image(at('scene-6.jpg'))];
    const copies = await copiesOfValidation(train, val);
    expect(copies.map(({ photo, copyOf }) => ({ photo, copyOf }))).toEqual([
      { photo: 'cropped-3.png', copyOf: 'scene-3.jpg' },
      { photo: 'mirrored-1.jpg', copyOf: 'scene-1.jpg' },
      { photo: 'small-2.jpg (tagged)', copyOf: 'scene-2.jpg' },
    ]);
    expect(copies.map((c) => c.file)).toEqual([at('cropped-3.png'), at('mirrored-1.jpg'), at('small-2.jpg')]);
    expect(describeValidationCopies(copies)).toBe(
      '3 training photos left out as near-copies of validation photos: cropped-3.png (of scene-3.jpg), mirrored-1.jpg (of scene-1.jpg), small-2.jpg (tagged) (of scene-2.jpg)',
    );
    // Copies among the training photos alone, or among the validation photos, are not this rule's business.
    expect(await copiesOfValidation([image(at('scene-1.jpg')), image(at('mirrored-1.jpg'))], [image(at('scene-4.jpg'))])).toEqual([]);
    expect(await copiesOfValidation([image(at('scene-4.jpg'))], [image(at('scene-1.jpg')), image(at('mirrored-1.jpg'))])).toEqual([]);
  });

  it('leaves a photo it cannot read to the feature reader, and checks nothing without validation photos', async () => {
    fs.writeFileSync(at('broken.jpg'), 'not a photo');
    const copies = await copiesOfValidation([image(at('broken.jpg')), image(at('small-2.jpg'))], [image(at('scene-2.jpg'))]);
    expect(copies.map((c) => c.photo)).toEqual(['small-2.jpg']);
    expect(await copiesOfValidation([image(at('small-2.jpg'))], [])).toEqual([]);
  });

  it.skipIf(!hasShared)('finds the CCP training photo that copies a photo of the validation split', async () => {
    // 0990.jpg and 0907.jpg are two frames of one shot in CCP's train/ (issue 12's duplicates found them).
    const photos = path.join(sharedDataset, 'train/images');
    const copies = await copiesOfValidation([image(path.join(photos, '0907.jpg')), image(path.join(photos, '0906.jpg'))], [image(path.join(photos, '0990.jpg'))]);
    expect(copies.map(({ photo, copyOf }) => ({ photo, copyOf }))).toEqual([{ photo: '0907.jpg', copyOf: '0990.jpg' }]);
  });
});
