// Webhooks as a Node app receives them: the SDK's verifyNotificationSignature
// must accept what Nubo sends, and only that.
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');
const cloudinary = require('cloudinary').v2;

const fixture = (name) => path.join(process.env.NUBO_FIXTURES, name);

function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      got.push({ body, ts: Number(req.headers['x-cld-timestamp']), sig: req.headers['x-cld-signature'] });
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/hook`, got, server,
  })));
}

async function waitFor(got, n) {
  for (let i = 0; i < 600; i += 1) {
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected ${n} notifications, got ${got.length}`);
}

test('eager_async notification verifies with verifyNotificationSignature', async () => {
  const rx = await receiver();
  try {
    const r = await cloudinary.uploader.upload(fixture('photo.jpg'), {
      public_id: 'node/hooked', eager: [{ width: 20, crop: 'scale' }], eager_async: true,
      eager_notification_url: rx.url,
    });
    assert.equal(r.eager[0].status, 'processing');
    const [n] = await waitFor(rx.got, 1);
    assert.ok(cloudinary.utils.verifyNotificationSignature(n.body, n.ts, n.sig));
    assert.ok(!cloudinary.utils.verifyNotificationSignature(`${n.body} `, n.ts, n.sig));
    const payload = JSON.parse(n.body);
    assert.equal(payload.notification_type, 'eager');
    assert.equal(payload.batch_id, r.eager[0].batch_id);
    assert.equal(payload.eager[0].width, 20);
  } finally {
    rx.server.close();
  }
});
