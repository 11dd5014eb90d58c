// Transformation URLs built by the official Node SDK, fetched from Nubo.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const cloudinary = require('cloudinary').v2;

const fixture = (name) => path.join(process.env.NUBO_FIXTURES, name);

async function get(url, headers = {}) {
  const resp = await fetch(url, { headers });
  return { status: resp.status, headers: resp.headers, body: Buffer.from(await resp.arrayBuffer()) };
}

// Width and height from a PNG's IHDR chunk.
function pngSize(buf) {
  assert.equal(buf.toString('latin1', 1, 4), 'PNG');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

test('cloudinary.url with crop, chain, signature and named transformation', async () => {
  const r = await cloudinary.uploader.upload(fixture('photo.jpg'), { public_id: 'node/deliver', overwrite: true });
  const url = cloudinary.url(r.public_id, {
    width: 24, height: 12, crop: 'fill', gravity: 'north', format: 'png', version: r.version, secure: false,
  });
  assert.match(url, /\/c_fill,g_north,h_12,w_24\//);
  const first = await get(url);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('content-type'), 'image/png');
  assert.deepEqual(pngSize(first.body), [24, 12]);
  const second = await get(url);
  assert.equal(second.headers.get('etag'), first.headers.get('etag'));
  assert.ok(second.body.equals(first.body));

  const chained = cloudinary.url(r.public_id, {
    transformation: [{ width: 20, crop: 'scale' }, { radius: 'max' }], format: 'png', secure: false,
  });
  assert.match(chained, /\/c_scale,w_20\/r_max\//);
  const c = await get(chained);
  assert.equal(c.status, 200);
  assert.equal(c.body[25], 6, 'rounded corners need RGBA');

  const signed = cloudinary.url(r.public_id, { width: 8, crop: 'scale', format: 'png', sign_url: true, secure: false });
  assert.match(signed, /\/s--[A-Za-z0-9_-]{8}--\//);
  assert.equal((await get(signed)).status, 200);
  assert.equal((await get(signed.replace(/s--[^/]+--/, 's--AAAAAAAA--'))).status, 401);

  const named = await get(cloudinary.url(r.public_id, { transformation: 'sdk_thumb', format: 'png', secure: false }));
  assert.deepEqual(pngSize(named.body), [20, 20]);
});

test('f_auto follows Accept, and errors carry X-Cld-Error', async () => {
  await cloudinary.uploader.upload(fixture('photo.jpg'), { public_id: 'node/auto', overwrite: true });
  const url = cloudinary.url('node/auto', { fetch_format: 'auto', width: 10, crop: 'scale', secure: false });
  const webp = await get(url, { accept: 'image/webp,*/*' });
  assert.equal(webp.headers.get('content-type'), 'image/webp');
  assert.match(webp.headers.get('vary'), /Accept/);
  const bad = await get(cloudinary.url('node/auto', { width: 'abc', secure: false }));
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('x-cld-error'), 'Invalid width in transformation: abc');
});

test('eager transformations on upload', async () => {
  const r = await cloudinary.uploader.upload(fixture('photo.jpg'), {
    public_id: 'node/eager', overwrite: true, eager: [{ width: 10, crop: 'scale', format: 'png' }],
  });
  assert.equal(r.eager.length, 1);
  assert.equal(r.eager[0].width, 10);
  const got = await get(r.eager[0].secure_url);
  assert.deepEqual(pngSize(got.body), [10, 8]);
});

test('face, custom and automatic gravity from cloudinary.url', async () => {
  const r = await cloudinary.uploader.upload(fixture('faces/2009_004587.jpg'), {
    public_id: 'node/faces', overwrite: true, faces: true, custom_coordinates: '300,0,100,100',
  });
  assert.equal(r.faces.length, 2);
  const url = (o) => cloudinary.url(r.public_id, { format: 'png', secure: false, ...o });
  const thumb = url({ width: 100, height: 100, crop: 'thumb', gravity: 'faces', zoom: 0.8 });
  assert.match(thumb, /\/c_thumb,g_faces,h_100,w_100,z_0.8\//);
  const t = await get(thumb);
  assert.equal(t.status, 200);
  assert.deepEqual(pngSize(t.body), [100, 100]);
  const custom = await get(url({ crop: 'crop', gravity: 'custom' }));
  assert.deepEqual(pngSize(custom.body), [100, 100]);
  const byCustom = await get(url({ width: 300, height: 100, crop: 'fill', gravity: 'custom' }));
  const north = await get(url({ width: 300, height: 100, crop: 'fill', gravity: 'north' }));
  assert.ok(byCustom.body.equals(north.body));
  const blurred = await get(url({ transformation: [{ width: 200, crop: 'scale' }, { effect: 'blur_faces' }] }));
  assert.equal(blurred.status, 200);
  assert.deepEqual(pngSize(blurred.body), [200, 250]);
  const auto = await get(url({ width: 100, height: 300, crop: 'fill_pad', gravity: 'auto', background: 'red' }));
  assert.deepEqual(pngSize(auto.body), [100, 300]);
});

test('conditions and variables from cloudinary.url', async () => {
  const r = await cloudinary.uploader.upload(fixture('photo.jpg'), { public_id: 'node/cond', overwrite: true });
  const url = cloudinary.url(r.public_id, {
    transformation: [
      { if: 'w > 30' }, { width: 10, crop: 'scale' }, { if: 'else' }, { width: 20, crop: 'scale' }, { if: 'end' },
      { variables: [['$side', 'w / 2']], width: '$side', height: '$side', crop: 'fill' },
    ],
    format: 'png', secure: false,
  });
  assert.match(url, /\/if_w_gt_30\/c_scale,w_10\/if_else\/c_scale,w_20\/if_end\//);
  assert.match(url, /\$side_w_div_2,c_fill,h_\$side,w_\$side/);
  const got = await get(url);
  assert.equal(got.status, 200);
  // 40×30 → 10×8 → a 5×5 fill.
  assert.deepEqual(pngSize(got.body), [5, 5]);
});

test('conditions on tags and context from cloudinary.url follow edits', async () => {
  const r = await cloudinary.uploader.upload(fixture('photo.jpg'), {
    public_id: 'node/cond-data', overwrite: true, tags: ['sale'], context: { kind: 'shoes' },
  });
  const url = cloudinary.url(r.public_id, {
    transformation: [
      { if: '!sale! in tags' }, { width: 10, crop: 'scale' }, { if: 'end' },
      { if: 'ctx:!kind! = !shoes!', width: 5, crop: 'scale' },
    ],
    format: 'png', secure: false,
  });
  assert.match(url, /\/if_!sale!_in_tags\/c_scale,w_10\/if_end\/if_ctx:!kind!_eq_!shoes!,c_scale,w_5\//);
  let got = await get(url);
  assert.equal(got.status, 200, got.headers.get('x-cld-error'));
  assert.deepEqual(pngSize(got.body), [5, 4]);
  await cloudinary.api.update(r.public_id, { tags: 'other', context: 'kind=hats' });
  got = await get(url);
  assert.deepEqual(pngSize(got.body), [40, 30]);
});

test('shadow, outline, replace_color and gradient_fade from cloudinary.url', async () => {
  const r = await cloudinary.uploader.upload(fixture('photo.jpg'), { public_id: 'node/fx', overwrite: true });
  const url = (o) => cloudinary.url(r.public_id, { format: 'png', secure: false, ...o });
  const shadow = url({ transformation: [{ width: 20, crop: 'scale' }, { effect: 'shadow:0', color: 'black', x: 4, y: 4 }] });
  assert.match(shadow, /\/c_scale,w_20\/co_black,e_shadow:0,x_4,y_4\//);
  assert.deepEqual(pngSize((await get(shadow)).body), [27, 22]);
  const outline = url({ transformation: [{ width: 20, crop: 'scale' }, { effect: 'outline:2', color: 'blue' }] });
  assert.deepEqual(pngSize((await get(outline)).body), [24, 19]);
  for (const effect of ['replace_color:green:40', 'gradient_fade:symmetric', 'assist_colorblind:xray']) {
    const got = await get(url({ width: 20, crop: 'scale', effect }));
    assert.equal(got.status, 200, effect);
    assert.deepEqual(pngSize(got.body), [20, 15], effect);
  }
});
