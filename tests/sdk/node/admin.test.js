// The Admin API and search, driven by the official Node SDK, unchanged. Node
// sends form-urlencoded bodies and percent-encodes '/' inside path segments
// (even `resources%2Fsearch`), unlike Python.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const cloudinary = require('cloudinary').v2;

const api = cloudinary.api;
const fixture = (name) => path.join(process.env.NUBO_FIXTURES, name);
const folder = 'nadm_' + Math.random().toString(36).slice(2, 10);
const upload = (id, opts = {}) =>
  cloudinary.uploader.upload(fixture('photo.jpg'), { public_id: id, overwrite: true, ...opts });
const ids = (r) => r.resources.map((x) => x.public_id);

test('ping and rate-limit headers', async () => {
  const r = await api.ping();
  assert.equal(r.status, 'ok');
  assert.equal(r.rate_limit_allowed, 5000);
  assert.ok(r.rate_limit_remaining < 5000);
  assert.ok(r.rate_limit_reset_at instanceof Date || typeof r.rate_limit_reset_at === 'object');
});

test('listings with encoded slashes, cursors and flags', async () => {
  for (const n of ['a', 'b', 'c']) {
    await upload(`${folder}/list/${n}`, { tags: [folder, `tag_${n}`], context: { n } });
  }
  const first = await api.resources({ type: 'upload', prefix: `${folder}/list/`, max_results: 2, direction: 'asc', tags: true });
  assert.deepEqual(ids(first), [`${folder}/list/a`, `${folder}/list/b`]);
  assert.deepEqual(first.resources[0].tags, [folder, 'tag_a']);
  const rest = await api.resources({ type: 'upload', prefix: `${folder}/list/`, max_results: 2, direction: 'asc', next_cursor: first.next_cursor });
  assert.deepEqual(ids(rest), [`${folder}/list/c`]);
  assert.equal(rest.next_cursor, undefined);
  assert.deepEqual(ids(await api.resources_by_tag('tag_b')), [`${folder}/list/b`]);
  assert.deepEqual(ids(await api.resources_by_context('n', 'c')).filter((i) => i.startsWith(folder)), [`${folder}/list/c`]);
  const byIds = await api.resources_by_ids([`${folder}/list/a`, `${folder}/list/c`]);
  assert.deepEqual(ids(byIds).sort(), [`${folder}/list/a`, `${folder}/list/c`]);
});

test('details, update with form bodies, and not found', async () => {
  const id = `${folder}/detail one`;
  await upload(id, { eager: [{ width: 8, crop: 'scale' }] });
  const d = await api.resource(id);
  assert.equal(d.public_id, id);
  assert.equal(d.derived.length, 1);
  assert.equal(d.derived[0].transformation, 'c_scale,w_8');
  const u = await api.update(id, { tags: ['x', 'y'], context: { alt: 'a|b=c' } });
  assert.deepEqual(u.tags, ['x', 'y']);
  assert.equal(u.context.custom.alt, 'a|b=c');
  await assert.rejects(api.resource(`${folder}/missing`), (e) => e.error.http_code === 404 && /Resource not found/.test(e.error.message));
});

test('deletes by ids and prefix', async () => {
  await upload(`${folder}/del/a`);
  await upload(`${folder}/del/b`);
  await upload(`${folder}/del2/c`);
  const r = await api.delete_resources([`${folder}/del2/c`, `${folder}/nope`]);
  assert.deepEqual(r.deleted, { [`${folder}/del2/c`]: 'deleted', [`${folder}/nope`]: 'not_found' });
  const p = await api.delete_resources_by_prefix(`${folder}/del/`);
  assert.deepEqual(Object.keys(p.deleted).sort(), [`${folder}/del/a`, `${folder}/del/b`]);
  assert.deepEqual(ids(await api.resources({ type: 'upload', prefix: `${folder}/del` })), []);
});

test('named transformations, presets and folders', async () => {
  const name = folder + '_t';
  assert.equal((await api.create_transformation(name, 'c_fill,h_9,w_9')).message, 'created');
  await assert.rejects(api.create_transformation(name, 'w_1'), (e) => e.error.http_code === 409);
  assert.deepEqual((await api.transformation(name)).info, [{ crop: 'fill', height: 9, width: 9 }]);
  await api.update_transformation(name, { allowed_for_strict: true });
  assert.equal((await api.transformation(name)).allowed_for_strict, true);
  assert.equal((await api.delete_transformation(name)).message, 'deleted');

  const preset = folder + '_p';
  await api.create_upload_preset({ name: preset, unsigned: true, folder: `${folder}/unsigned`, tags: 'np' });
  assert.equal((await api.upload_preset(preset)).settings.folder, `${folder}/unsigned`);
  const up = await cloudinary.uploader.unsigned_upload(fixture('photo.jpg'), preset);
  assert.ok(up.public_id.startsWith(`${folder}/unsigned/`));
  assert.equal((await api.delete_upload_preset(preset)).message, 'deleted');

  const made = await api.create_folder(`${folder}/x y/z`);
  assert.equal(made.path, `${folder}/x y/z`);
  const subs = await api.sub_folders(`${folder}/x y`);
  assert.deepEqual(subs.folders.map((f) => f.path), [`${folder}/x y/z`]);
  assert.ok((await api.root_folders()).folders.some((f) => f.name === folder));
  assert.deepEqual((await api.delete_folder(`${folder}/x y`)).deleted, [`${folder}/x y/z`, `${folder}/x y`]);
  await assert.rejects(api.sub_folders(`${folder}/x y`), (e) => e.error.http_code === 404);
});

test('search (JSON body to resources%2Fsearch)', async () => {
  await upload(`${folder}/s/a`, { tags: ['node_kitten'] });
  await cloudinary.uploader.upload(fixture('alpha.png'), { public_id: `${folder}/s/b`, tags: ['node_kitten'] });
  const r = await cloudinary.search
    .expression(`folder=${folder}/s AND tags:node_kitten`)
    .sort_by('public_id', 'desc')
    .aggregate('format')
    .with_field('tags')
    .max_results(1)
    .execute();
  assert.equal(r.total_count, 2);
  assert.deepEqual(ids(r), [`${folder}/s/b`]);
  assert.deepEqual(r.aggregations.format, { jpg: 1, png: 1 });
  const next = await cloudinary.search
    .expression(`folder=${folder}/s AND tags:node_kitten`)
    .sort_by('public_id', 'desc')
    .max_results(1)
    .next_cursor(r.next_cursor)
    .execute();
  assert.deepEqual(ids(next), [`${folder}/s/a`]);
  await assert.rejects(
    cloudinary.search.expression('bytes>lots').execute(),
    (e) => e.error.http_code === 400 && /Invalid search expression/.test(e.error.message),
  );
});

test('structured metadata: fields, values on upload and update, search', async () => {
  const f = folder + '_mf';
  await api.add_metadata_field({ type: 'enum', external_id: f, label: 'Size', datasource: { values: [{ external_id: 's', value: 'Small' }, { external_id: 'l', value: 'Large' }] } });
  try {
    const r = await upload(`${folder}/meta`, { metadata: { [f]: 's' } });
    assert.deepEqual(r.metadata, { [f]: 's' });
    await assert.rejects(upload(`${folder}/meta2`, { metadata: { [f]: 'xl' } }), (e) => e.http_code === 400);
    const u = await api.update(`${folder}/meta`, { metadata: { [f]: 'l' } });
    assert.equal(u.metadata[f], 'l');
    const s = await cloudinary.search.expression(`metadata.${f}=l`).with_field('metadata').execute();
    assert.deepEqual(ids(s), [`${folder}/meta`]);
    assert.equal((await api.metadata_field_by_field_id(f)).datasource.values.length, 2);
  } finally {
    await api.delete_metadata_field(f);
  }
});
