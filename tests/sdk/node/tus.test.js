// tus 1.0 with tus-js-client (what Uppy uses): a signed upload created with
// Upload-Metadata, interrupted after one chunk, resumed from the server's
// offset, and the finished file is an asset.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const tus = require('tus-js-client');
const cloudinary = require('cloudinary').v2;

const cfg = cloudinary.config();
const endpoint = `${cfg.upload_prefix}/v1_1/${cfg.cloud_name}/raw/tus`;

function signed(params) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const all = { ...params, timestamp };
  return { ...all, api_key: cfg.api_key, signature: cloudinary.utils.api_sign_request(all, cfg.api_secret) };
}

function start(data, opts) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint, chunkSize: 1024 * 1024, retryDelays: null,
      onSuccess: () => resolve(upload), onError: reject, ...opts,
    });
    upload.start();
  });
}

test('an interrupted tus upload resumes from its offset and becomes an asset', async () => {
  const data = crypto.randomBytes(3 * 1024 * 1024 + 123);
  const metadata = { ...signed({ public_id: 'tus/resumed.bin' }), filename: 'resumed.bin' };
  // First try: stop after the first chunk is acknowledged.
  let url;
  await new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint, chunkSize: 1024 * 1024, retryDelays: null, metadata,
      onChunkComplete: (_size, sent) => {
        if (sent >= 1024 * 1024) { url = upload.url; upload.abort().then(resolve, reject); }
      },
      onError: reject,
      onSuccess: () => reject(new Error('should have been interrupted')),
    });
    upload.start();
  });
  assert.match(url, /\/v1_1\/demo\/raw\/tus\/[0-9a-f]{32}$/);
  const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.headers.get('upload-offset'), String(1024 * 1024));
  // Resume with the same URL: the client asks for the offset and goes on.
  let resumedFrom;
  await start(data, { uploadUrl: url, metadata, onProgress: (sent) => { resumedFrom ??= sent; } });
  assert.ok(resumedFrom >= 1024 * 1024, `resumed from ${resumedFrom}`);
  const result = await (await fetch(url, { headers: { 'Tus-Resumable': '1.0.0' } })).json();
  assert.equal(result.public_id, 'tus/resumed.bin');
  assert.equal(result.bytes, data.length);
  assert.equal(result.original_filename, 'resumed');
  const got = Buffer.from(await (await fetch(cloudinary.url('tus/resumed.bin', { resource_type: 'raw', secure: false }))).arrayBuffer());
  assert.ok(got.equals(data));
});

test('a bad signature is refused at creation, and termination drops an upload', async () => {
  const bad = { ...signed({ public_id: 'tus/bad.bin' }), signature: 'f'.repeat(40) };
  await assert.rejects(start(Buffer.alloc(10), { metadata: bad }), (e) => /response code: 401/.test(String(e)));
  let url;
  await new Promise((resolve, reject) => {
    const upload = new tus.Upload(crypto.randomBytes(2 * 1024 * 1024), {
      endpoint, chunkSize: 1024 * 1024, retryDelays: null, metadata: signed({ public_id: 'tus/dropped.bin' }),
      onChunkComplete: () => { url = upload.url; upload.abort(true).then(resolve, reject); },
      onError: reject,
    });
    upload.start();
  });
  const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.status, 404, 'abort(true) sends DELETE: the upload is gone');
  const options = await fetch(endpoint, { method: 'OPTIONS' });
  assert.equal(options.headers.get('tus-version'), '1.0.0');
  assert.match(options.headers.get('tus-extension'), /creation-with-upload/);
});
