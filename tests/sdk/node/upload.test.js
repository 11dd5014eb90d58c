// Upload API and delivery, driven by the official Node SDK, unchanged.
// CLOUDINARY_URL (with upload_prefix and cname) is set by the Rust harness
// before this process starts, as the Node SDK requires.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const cloudinary = require('cloudinary').v2;

const FIX = process.env.NUBO_FIXTURES;
const fixture = (name) => path.join(FIX, name);
const read = (name) => fs.readFileSync(fixture(name));

async function get(url) {
  const resp = await fetch(url);
  return { status: resp.status, body: Buffer.from(await resp.arrayBuffer()) };
}

function deliveryUrl(r, extra = {}) {
  return cloudinary.url(r.public_id, {
    resource_type: r.resource_type, type: r.type, format: r.format, secure: false, ...extra,
  });
}

test('upload a file path (chunked request body) and deliver it', async () => {
  const r = await cloudinary.uploader.upload(fixture('photo.jpg'), {
    public_id: 'node/photo', tags: ['a', 'b'], context: { alt: 'x' }, overwrite: true,
  });
  assert.equal(r.public_id, 'node/photo');
  assert.deepEqual([r.width, r.height, r.format], [40, 30, 'jpg']);
  assert.deepEqual(r.tags, ['a', 'b']);
  assert.equal(r.context.custom.alt, 'x');
  assert.ok(cloudinary.utils.verify_api_response_signature(r.public_id, r.version, r.signature));
  const url = deliveryUrl(r);
  assert.match(url, /\?_a=/);
  const got = await get(url);
  assert.equal(got.status, 200);
  assert.ok(got.body.equals(read('photo.jpg')));
});

test('upload_stream and data URIs', async () => {
  const r = await new Promise((resolve, reject) => {
    const s = cloudinary.uploader.upload_stream({ public_id: 'node/stream' }, (e, res) => (e ? reject(e) : resolve(res)));
    s.end(read('alpha.png'));
  });
  assert.equal(r.format, 'png');
  assert.ok((await get(deliveryUrl(r))).body.equals(read('alpha.png')));
  const uri = 'data:image/gif;base64,' + read('anim.gif').toString('base64');
  const g = await cloudinary.uploader.upload(uri);
  assert.deepEqual([g.format, g.pages], ['gif', 3]);
});

test('raw, auto and video', async () => {
  const raw = await cloudinary.uploader.upload(fixture('notes.txt'), { resource_type: 'raw', public_id: 'node/notes.txt' });
  assert.equal(raw.resource_type, 'raw');
  assert.ok((await get(cloudinary.url('node/notes.txt', { resource_type: 'raw', secure: false }))).body.equals(read('notes.txt')));
  const auto = await cloudinary.uploader.upload(fixture('clip.webm'), { resource_type: 'auto' });
  assert.deepEqual([auto.resource_type, auto.format, auto.width], ['video', 'webm', 64]);
});

test('unsigned upload with a preset, and overwrite=false', async () => {
  const r = await cloudinary.uploader.unsigned_upload(fixture('alpha.png'), 'unsigned_web', { public_id: 'nodeavatar' });
  assert.equal(r.public_id, 'web/nodeavatar');
  const again = await cloudinary.uploader.upload(fixture('photo.jpg'), { public_id: 'web/nodeavatar', overwrite: false });
  assert.equal(again.existing, true);
  assert.equal(again.etag, r.etag);
});

// Says what was received when a rejection is not the expected one.
const expect = (check) => (e) => check(e) || assert.fail(`unexpected error: ${JSON.stringify(e)} ${e}`);

test('errors reach the caller with Cloudinary statuses', async () => {
  await assert.rejects(
    cloudinary.uploader.upload(fixture('alpha.png'), { api_secret: 'wrong' }),
    expect((e) => e.http_code === 401 && /Invalid Signature/.test(e.message)),
  );
  await assert.rejects(
    cloudinary.uploader.upload('data:image/png;base64,' + Buffer.from('garbage').toString('base64')),
    expect((e) => e.http_code === 400 && e.message === 'Invalid image file'),
  );
  await assert.rejects(
    cloudinary.uploader.unsigned_upload(fixture('alpha.png'), 'signed_only'),
    expect((e) => e.http_code === 400),
  );
});

test('destroy, rename, tags and context', async () => {
  await cloudinary.uploader.upload(fixture('alpha.png'), { public_id: 'node/m' });
  await cloudinary.uploader.add_tag('x', ['node/m']);
  await cloudinary.uploader.add_context({ k: 'v' }, ['node/m']);
  let e = await cloudinary.uploader.explicit('node/m', { type: 'upload' });
  assert.deepEqual(e.tags, ['x']);
  assert.deepEqual(e.context, { custom: { k: 'v' } });
  await cloudinary.uploader.remove_all_tags(['node/m']);
  e = await cloudinary.uploader.explicit('node/m', { type: 'upload' });
  assert.deepEqual(e.tags, []);
  const renamed = await cloudinary.uploader.rename('node/m', 'node/m2', { overwrite: true });
  assert.equal(renamed.public_id, 'node/m2');
  assert.equal((await cloudinary.uploader.destroy('node/m2')).result, 'ok');
  assert.equal((await cloudinary.uploader.destroy('node/m2')).result, 'not found');
  await assert.rejects(cloudinary.uploader.rename('node/none', 'node/x'), (err) => err.http_code === 404);
});

test('private assets are served only with a signed URL', async () => {
  const r = await cloudinary.uploader.upload(fixture('alpha.png'), { public_id: 'node/secret', type: 'private' });
  assert.equal((await get(deliveryUrl(r))).status, 401);
  const ok = await get(deliveryUrl(r, { sign_url: true }));
  assert.equal(ok.status, 200);
  assert.ok(ok.body.equals(read('alpha.png')));
});

test('upload_large of a file smaller than one chunk', async () => {
  const r = await new Promise((resolve, reject) => cloudinary.uploader.upload_large(
    fixture('photo.jpg'), { resource_type: 'image', public_id: 'node/large' },
    (e, res) => (e ? reject(e) : resolve(res)),
  ));
  assert.deepEqual([r.public_id, r.format, r.bytes], ['node/large', 'jpg', read('photo.jpg').length]);
});

test('upload_large sends chunks with -1 totals and every byte arrives', async () => {
  const os = require('node:os');
  const crypto = require('node:crypto');
  // 100 MB of random bytes, 20 chunks of 5 MB.
  const data = crypto.randomBytes(100 * 1000 * 1000 + 7);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nubo-')), 'big.bin');
  fs.writeFileSync(file, data);
  const r = await new Promise((resolve, reject) => {
    cloudinary.uploader.upload_large(file, { chunk_size: 5000000, resource_type: 'raw', public_id: 'node/large.bin' },
      (e, res) => (e ? reject(e) : resolve(res)));
  });
  assert.equal(r.bytes, data.length);
  const got = await get(cloudinary.url('node/large.bin', { resource_type: 'raw', secure: false }));
  assert.equal(got.status, 200);
  assert.ok(got.body.equals(data));
});
