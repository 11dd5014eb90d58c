// Layers built by the Node SDK's overlay/underlay options and the text
// method, fetched from Nubo.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const cloudinary = require('cloudinary').v2;

const fixture = (name) => path.join(process.env.NUBO_FIXTURES, name);

async function get(url) {
  const resp = await fetch(url);
  return { status: resp.status, headers: resp.headers, body: Buffer.from(await resp.arrayBuffer()) };
}

function pngSize(buf) {
  assert.equal(buf.toString('latin1', 1, 4), 'PNG');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

test.before(async () => {
  await cloudinary.uploader.upload(fixture('faces/2008_002506.jpg'), { public_id: 'node/layers/base', overwrite: true });
  await cloudinary.uploader.upload(fixture('alpha.png'), { public_id: 'node/layers/logo', overwrite: true });
});

test('image overlays and underlays from SDK options', async () => {
  const plain = cloudinary.url('node/layers/base', { width: 300, crop: 'scale', format: 'png', secure: false });
  const url = cloudinary.url('node/layers/base', {
    transformation: [
      { width: 300, crop: 'scale' },
      { overlay: 'node:layers:logo', width: 50, gravity: 'north_east', x: 5, y: 5 },
    ],
    format: 'png',
    secure: false,
  });
  assert.match(url, /\/g_north_east,l_node:layers:logo,w_50,x_5,y_5\//);
  const [base, over] = await Promise.all([get(plain), get(url)]);
  assert.equal(over.status, 200, over.headers.get('x-cld-error'));
  assert.deepEqual(pngSize(over.body), pngSize(base.body));
  assert.ok(!over.body.equals(base.body), 'the layer changed the pixels');
  const under = cloudinary.url('node/layers/base', {
    transformation: [
      { width: 100, crop: 'scale', border: '10px_solid_rgb:00000000' },
      { underlay: 'node:layers:logo', width: 1.0, height: 1.0, crop: 'scale', flags: 'relative' },
    ],
    format: 'png',
    secure: false,
  });
  const u = await get(under);
  assert.equal(u.status, 200, u.headers.get('x-cld-error'));
  assert.deepEqual(pngSize(u.body), [120, 95]);
});

test('text overlays and the text method', async () => {
  const url = cloudinary.url('node/layers/base', {
    transformation: [
      { width: 400, crop: 'scale' },
      {
        overlay: { font_family: 'Roboto', font_size: 30, font_weight: 'bold', text: 'Hello, World/1' },
        color: '#ff0000', gravity: 'south', y: 10,
      },
    ],
    format: 'png',
    secure: false,
  });
  assert.match(url, /l_text:Roboto_30_bold:Hello%252C%20World%252F1/);
  const r = await get(url);
  assert.equal(r.status, 200, r.headers.get('x-cld-error'));

  const made = await cloudinary.uploader.text('Node style', {
    public_id: 'node_style', font_family: 'Liberation Serif', font_size: 28, font_color: 'blue',
  });
  assert.equal(made.type, 'text');
  assert.equal(made.format, 'png');
  const png = await get(made.secure_url.replace('https:', 'http:'));
  assert.equal(png.status, 200);
  assert.deepEqual(pngSize(png.body), [made.width, made.height]);
  const styled = cloudinary.url('node/layers/base', {
    overlay: { resource_type: 'text', public_id: 'node_style', text: 'Reused' },
    format: 'png',
    secure: false,
  });
  assert.match(styled, /l_text:node_style:Reused/);
  const s = await get(styled);
  assert.equal(s.status, 200, s.headers.get('x-cld-error'));

  const bad = await get(cloudinary.url('node/layers/base', {
    overlay: { font_family: 'Nonexistent', font_size: 20, text: 'x' }, format: 'png', secure: false,
  }));
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('x-cld-error'), /Unknown font family Nonexistent/);
});
