/**
 * The control map preview: the image is decoded in the restricted decoding process, then preprocessed; the PNG
 * holds the map at the image's size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { previewControlMap } from '../../../src/app/image-prompts/control-map-preview.ts';
import { UploadDecoder } from '../../../src/app/uploads/upload-decoder.ts';
import { UploadRefusedError } from '../../../src/app/uploads/upload-errors.ts';
import { computeCpds } from '../../../src/engine/control/cpds.ts';
import { computePyramidCanny } from '../../../src/engine/control/pyramid-canny.ts';
import { decodePng } from '../../../src/engine/output/png.ts';
import { controlTestImage } from '../../fixtures/control-maps/control-test-image.ts';

// 72x64: a job's image is at least 64 on each side
const image = controlTestImage(72, 64, 5);
const webp = () => sharp(Buffer.from(image.rgb), { raw: { width: 72, height: 64, channels: 3 } }).webp({ lossless: true }).toBuffer();

describe('previewControlMap', () => {
  const deps = { decoder: new UploadDecoder(), maxPixels: 72 * 64 };

  it('decodes the image (here a lossless WebP) and answers its PyraCanny map as a grey PNG of its size', async () => {
    const png = decodePng(await previewControlMap(deps, 'PyraCanny', await webp()));
    assert.deepEqual([png.width, png.height], [72, 64]);
    assert.deepEqual(Array.from({ length: 72 * 64 }, (_, i) => png.rgb[i * 3]), Array.from(computePyramidCanny(image).data));
    assert.ok(Array.from({ length: 72 * 64 }, (_, i) => png.rgb[i * 3] === png.rgb[i * 3 + 1] && png.rgb[i * 3] === png.rgb[i * 3 + 2]).every(Boolean));
  });

  it('answers the CPDS map for type CPDS', async () => {
    const png = decodePng(await previewControlMap(deps, 'CPDS', await webp()));
    assert.deepEqual(Array.from({ length: 72 * 64 }, (_, i) => png.rgb[i * 3]), Array.from(computeCpds(image).data));
  });

  it('refuses bytes that do not decode and images over the pixel quota', async () => {
    await assert.rejects(previewControlMap(deps, 'CPDS', new Uint8Array([1, 2, 3])), (e: unknown) => e instanceof UploadRefusedError && e.rule === 'pixelData');
    await assert.rejects(previewControlMap({ ...deps, maxPixels: 1000 }, 'CPDS', await webp()), (e: unknown) => e instanceof UploadRefusedError && e.rule === 'maxPixels');
  });
});
