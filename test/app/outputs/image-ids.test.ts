import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createOutputImageId, createUploadId, isUploadId, parseOutputImageId } from '../../../src/app/outputs/image-ids.ts';

describe('image ids', () => {
  it('parses the job back out of every output image id it builds', () => {
    for (const jobId of ['AAAAAAAAAAAAAAAAAAAAAA', 'a-b_c-d_e-f_g-h_i-j_kk', 'x']) {
      for (let i = 0; i < 50; i++) assert.equal(parseOutputImageId(createOutputImageId(jobId)), jobId);
    }
  });

  it('refuses ids that are not an output image id', () => {
    for (const id of ['', 'short', '-abcdefgh', 'job/../x-abcdefgh', 'job-abcdefg', 'job-abcdefg!']) assert.equal(parseOutputImageId(id), null, id);
  });

  it('tells upload ids from anything else, and only its own shape passes', () => {
    for (let i = 0; i < 50; i++) assert.ok(isUploadId(createUploadId()));
    for (const id of ['up-short', 'up-../../etc/passwd', `up-${'A'.repeat(17)}`, createOutputImageId('job')]) assert.equal(isUploadId(id), false, id);
  });
});
