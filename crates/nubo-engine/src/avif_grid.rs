//! Grid (tiled) AVIFs: a `grid` item whose tiles are AV1 items, laid out
//! in rows and cropped to the grid's output size (HEIF, ISO/IEC 23008-12
//! § 6.6.2.3). avif-parse does not read grids, so the item tables it would
//! read (`iinf`, `iloc`, `iref`, `idat`) are walked here, bounds-checked
//! like the property walk in [`crate::avif`]; each tile is decoded by
//! [`crate::av1`] and pasted into one [`Frame`], so colour conversion and
//! alpha work as for a single image. An alpha grid (an `auxl` item of the
//! primary, itself a grid or a single AV1 item) is assembled the same way.

use crate::av1::{self, Frame, Layout};
use crate::avif::{associations, boxes, child};
use crate::error::{EngineError, Result};

/// The most tiles a grid may have; a 16384 px wide picture in 512 px
/// tiles needs 32 a row, so this is far above real files and bounds the
/// work of a hostile one.
const MAX_TILES: usize = 1024;

/// Where an item's bytes are: in the file or in `idat`, as extents.
#[derive(Debug, Default)]
struct Location {
    in_idat: bool,
    extents: Vec<(u64, u64)>,
}

/// An `iref` entry: (reference type, from item, to items in order).
type Reference = ([u8; 4], u32, Vec<u32>);

/// The item tables of a HEIF file's `meta` box.
pub struct Items<'a> {
    file: &'a [u8],
    primary: u32,
    kinds: Vec<(u32, [u8; 4])>,
    locations: Vec<(u32, Location)>,
    references: Vec<Reference>,
    idat: &'a [u8],
    ipco: Vec<([u8; 4], &'a [u8])>,
    ipma: &'a [u8],
}

/// Planes ready for colour conversion.
pub struct Planes {
    pub colour: Frame,
    pub alpha: Option<Frame>,
    pub premultiplied: bool,
}

impl<'a> Items<'a> {
    /// The tables, or `None` when the file has no readable `meta` box.
    pub fn read(file: &'a [u8]) -> Option<Items<'a>> {
        let meta = child(file, b"meta")?.get(4..)?;
        let pitm = child(meta, b"pitm")?;
        let primary = if *pitm.first()? == 0 {
            u32::from(be16(pitm, 4)?)
        } else {
            be32(pitm, 4)?
        };
        let iprp = child(meta, b"iprp")?;
        Some(Items {
            file,
            primary,
            kinds: item_kinds(child(meta, b"iinf")?)?,
            locations: locations(child(meta, b"iloc")?)?,
            references: child(meta, b"iref").map_or(Some(Vec::new()), references)?,
            idat: child(meta, b"idat").unwrap_or(&[]),
            ipco: boxes(child(iprp, b"ipco")?).collect(),
            ipma: child(iprp, b"ipma")?,
        })
    }

    pub fn primary_is_grid(&self) -> bool {
        self.kind(self.primary) == Some(*b"grid")
    }

    fn kind(&self, id: u32) -> Option<[u8; 4]> {
        self.kinds.iter().find(|(i, _)| *i == id).map(|(_, k)| *k)
    }

    /// The item's bytes, its extents joined.
    fn data(&self, id: u32) -> std::result::Result<Vec<u8>, String> {
        let (_, loc) = self
            .locations
            .iter()
            .find(|(i, _)| *i == id)
            .ok_or_else(|| format!("item {id} has no location"))?;
        let source = if loc.in_idat { self.idat } else { self.file };
        let mut out = Vec::new();
        for &(offset, length) in &loc.extents {
            // A length of 0 means "to the end of the source".
            let end = if length == 0 {
                source.len() as u64
            } else {
                offset.saturating_add(length)
            };
            let bytes = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(a, b)| source.get(a..b))
                .ok_or_else(|| format!("item {id} lies outside the file"))?;
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }

    /// The items a reference of `kind` from `from` points to.
    fn referenced(&self, kind: &[u8; 4], from: u32) -> &[u32] {
        self.references
            .iter()
            .find(|(k, f, _)| k == kind && *f == from)
            .map_or(&[], |(_, _, to)| to)
    }

    /// The primary item's alpha plane item: an `auxl` reference to the
    /// primary, with an alpha `auxC` property.
    fn alpha(&self) -> Option<u32> {
        self.references
            .iter()
            .filter(|(k, _, to)| k == b"auxl" && to.contains(&self.primary))
            .map(|(_, from, _)| *from)
            .find(|&id| self.is_alpha(id))
    }

    fn is_alpha(&self, id: u32) -> bool {
        let urns: [&[u8]; 2] = [
            b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha",
            b"urn:mpeg:hevc:2015:auxid:1",
        ];
        associations(self.ipma, id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| self.ipco.get(i.checked_sub(1)?))
            .any(|(kind, body)| {
                let urn = body.get(4..).unwrap_or(&[]);
                let urn = urn.split(|&b| b == 0).next().unwrap_or(&[]);
                kind == b"auxC" && urns.contains(&urn)
            })
    }
}

impl Planes {
    /// The planes `d` times smaller ([`Frame::reduced`]); 1: as they are.
    pub fn reduced(self, d: u32) -> Planes {
        if d <= 1 {
            return self;
        }
        Planes {
            colour: self.colour.reduced(d),
            alpha: self.alpha.map(|a| a.reduced(d)),
            ..self
        }
    }
}

/// Whether every item's extents in the `iloc` box lie inside the file (or
/// `idat`); `true` when there is no readable `iloc` to judge by. A reader
/// that trusts a claimed length would reserve memory for it.
pub fn extents_fit(file: &[u8]) -> bool {
    let Some(meta) = child(file, b"meta").and_then(|m| m.get(4..)) else {
        return true;
    };
    let Some(table) = child(meta, b"iloc").and_then(locations) else {
        return true;
    };
    let idat = child(meta, b"idat").unwrap_or(&[]);
    table.iter().all(|(_, loc)| {
        let source = if loc.in_idat { idat } else { file };
        loc.extents
            .iter()
            .all(|&(offset, length)| offset.saturating_add(length) <= source.len() as u64)
    })
}

/// Decodes the primary grid item, and its alpha, to planes.
pub fn decode(items: &Items, max_pixels: u64) -> Result<Planes> {
    let colour = assemble(items, items.primary, max_pixels)?;
    let alpha_id = items.alpha();
    let alpha = match alpha_id {
        Some(id) => Some(assemble(items, id, max_pixels)?),
        None => None,
    };
    let premultiplied =
        alpha_id.is_some_and(|a| items.referenced(b"prem", items.primary).contains(&a));
    Ok(Planes {
        colour,
        alpha,
        premultiplied,
    })
}

/// The picture of item `id`: a grid's tiles pasted together, or one AV1
/// item decoded.
fn assemble(items: &Items, id: u32, max_pixels: u64) -> Result<Frame> {
    match items.kind(id) {
        Some(k) if &k == b"av01" => decode_tile(items, id, max_pixels),
        Some(k) if &k == b"grid" => {
            let data = items.data(id).map_err(invalid)?;
            let spec = Spec::parse(&data).ok_or_else(|| invalid("malformed grid"))?;
            let pixels = u64::from(spec.width) * u64::from(spec.height);
            if pixels > max_pixels {
                return Err(EngineError::TooLarge(format!(
                    "Image of {}x{} pixels is over the limit of {max_pixels} pixels",
                    spec.width, spec.height
                )));
            }
            let tiles = items.referenced(b"dimg", id);
            if tiles.len() != spec.rows as usize * spec.columns as usize {
                return Err(invalid("grid whose tile count does not match its layout"));
            }
            if tiles.len() > MAX_TILES {
                return Err(invalid(format!("grid of over {MAX_TILES} tiles")));
            }
            paste(items, &spec, tiles, max_pixels)
        }
        _ => Err(invalid("grid tile that is not an AV1 item")),
    }
}

/// A `grid` item's payload.
#[derive(Debug, PartialEq)]
struct Spec {
    rows: u32,
    columns: u32,
    width: u32,
    height: u32,
}

impl Spec {
    fn parse(data: &[u8]) -> Option<Spec> {
        let (version, flags) = (*data.first()?, *data.get(1)?);
        if version != 0 {
            return None;
        }
        let (rows, columns) = (u32::from(*data.get(2)?) + 1, u32::from(*data.get(3)?) + 1);
        let (width, height) = if flags & 1 == 0 {
            (u32::from(be16(data, 4)?), u32::from(be16(data, 6)?))
        } else {
            (be32(data, 4)?, be32(data, 8)?)
        };
        (width > 0 && height > 0).then_some(Spec {
            rows,
            columns,
            width,
            height,
        })
    }
}

/// Decodes the tiles one at a time into a canvas of the grid's size.
fn paste(items: &Items, spec: &Spec, tiles: &[u32], max_pixels: u64) -> Result<Frame> {
    let mut canvas: Option<(Frame, (u32, u32))> = None;
    for (n, &tile_id) in tiles.iter().enumerate() {
        let tile = decode_tile(items, tile_id, max_pixels)?;
        let (c, size) = match &mut canvas {
            Some(c) => c,
            None => canvas.insert((blank(spec, &tile)?, (tile.width, tile.height))),
        };
        if tile.layout != c.layout || tile.bit_depth != c.bit_depth {
            return Err(invalid("grid tiles of different formats"));
        }
        if (tile.width, tile.height) != *size {
            return Err(invalid("grid tiles of different sizes"));
        }
        let (row, column) = (n as u32 / spec.columns, n as u32 % spec.columns);
        copy_tile(c, &tile, column * size.0, row * size.1);
    }
    canvas
        .map(|(c, _)| c)
        .ok_or_else(|| invalid("grid without tiles"))
}

/// One AV1 item decoded at full size. A tile must be one: grids of grids
/// are not allowed.
fn decode_tile(items: &Items, id: u32, max_pixels: u64) -> Result<Frame> {
    if items.kind(id) != Some(*b"av01") {
        return Err(invalid("grid tile that is not an AV1 item"));
    }
    let data = items.data(id).map_err(invalid)?;
    av1::decode_frame(&data, max_pixels, 1)
        .map(|(f, _)| f)
        .map_err(invalid)
}

/// An empty canvas in the first tile's format, after checking that tiles
/// of its size cover the grid's output with no tile wholly outside it, and
/// that subsampled chroma lines up at tile edges.
fn blank(spec: &Spec, first: &Frame) -> Result<Frame> {
    let (tw, th) = (first.width, first.height);
    let covers = |n: u32, t: u32, out: u32| {
        u64::from(n) * u64::from(t) >= u64::from(out)
            && u64::from(n - 1) * u64::from(t) < u64::from(out)
    };
    if !covers(spec.columns, tw, spec.width) || !covers(spec.rows, th, spec.height) {
        return Err(invalid("grid tiles that do not cover its output"));
    }
    let (odd_w, odd_h) = (
        tw % 2 == 1 && spec.columns > 1,
        th % 2 == 1 && spec.rows > 1,
    );
    let misaligned = match first.layout {
        Layout::I420 => odd_w || odd_h,
        Layout::I422 => odd_w,
        Layout::Mono | Layout::I444 => false,
    };
    if misaligned {
        return Err(invalid("subsampled grid tiles of an odd size"));
    }
    let mut canvas = Frame {
        width: spec.width,
        height: spec.height,
        bit_depth: first.bit_depth,
        layout: first.layout,
        planes: Default::default(),
        primaries: first.primaries,
        transfer: first.transfer,
        matrix: first.matrix,
        full_range: first.full_range,
    };
    let (cw, ch) = canvas.chroma_size();
    let sizes = [(spec.width, spec.height), (cw, ch), (cw, ch)];
    let planes = if first.layout == Layout::Mono { 1 } else { 3 };
    for (plane, (w, h)) in canvas.planes.iter_mut().zip(sizes).take(planes) {
        *plane = vec![0; w as usize * h as usize];
    }
    Ok(canvas)
}

/// Copies `tile` into `canvas` with its top-left corner at (x, y) in luma
/// samples, clipped to the canvas.
fn copy_tile(canvas: &mut Frame, tile: &Frame, x: u32, y: u32) {
    let (cw, _) = canvas.chroma_size();
    let (tcw, _) = tile.chroma_size();
    let planes = if tile.layout == Layout::Mono { 1 } else { 3 };
    for i in 0..planes {
        // Chroma offsets scale as the plane does against luma.
        let (sx, sy) = if i == 0 {
            (1, 1)
        } else {
            match tile.layout {
                Layout::I420 => (2, 2),
                Layout::I422 => (2, 1),
                _ => (1, 1),
            }
        };
        let (dst_w, src_w) = if i == 0 {
            (canvas.width, tile.width)
        } else {
            (cw, tcw)
        };
        let (px, py) = ((x / sx) as usize, (y / sy) as usize);
        let src_h = tile.planes[i].len() / src_w.max(1) as usize;
        let dst_h = canvas.planes[i].len() / dst_w.max(1) as usize;
        let width = (src_w as usize).min((dst_w as usize).saturating_sub(px));
        for row in 0..src_h.min(dst_h.saturating_sub(py)) {
            let from = &tile.planes[i][row * src_w as usize..][..width];
            let at = (py + row) * dst_w as usize + px;
            canvas.planes[i][at..at + width].copy_from_slice(from);
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidImage(format!("AVIF: {e}"))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A big-endian unsigned field of `size` bytes (0, 4 or 8) at `*at`.
fn field(b: &[u8], at: &mut usize, size: u8) -> Option<u64> {
    let v = match size {
        0 => 0,
        4 => u64::from(be32(b, *at)?),
        8 => u64::from_be_bytes(b.get(*at..*at + 8)?.try_into().ok()?),
        _ => return None,
    };
    *at += usize::from(size);
    Some(v)
}

/// `iinf`: each `infe` (version 2 or 3) gives an item's id and type.
fn item_kinds(iinf: &[u8]) -> Option<Vec<(u32, [u8; 4])>> {
    let start = if *iinf.first()? == 0 { 6 } else { 8 };
    let mut out = Vec::new();
    for (kind, infe) in boxes(iinf.get(start..)?) {
        if &kind != b"infe" {
            continue;
        }
        let (id, at) = match *infe.first()? {
            2 => (u32::from(be16(infe, 4)?), 8),
            3 => (be32(infe, 4)?, 10),
            _ => continue,
        };
        out.push((id, infe.get(at..at + 4)?.try_into().ok()?));
    }
    Some(out)
}

/// `iloc`: every item's extents (construction method 0, the file, or 1,
/// `idat`; method 2, item offsets, is not used by AVIF writers).
fn locations(iloc: &[u8]) -> Option<Vec<(u32, Location)>> {
    let version = *iloc.first()?;
    let (sizes, more) = (*iloc.get(4)?, *iloc.get(5)?);
    let (offset_size, length_size, base_size) = (sizes >> 4, sizes & 15, more >> 4);
    let index_size = if version >= 1 { more & 15 } else { 0 };
    let mut at = 6;
    let count = if version < 2 {
        let c = u32::from(be16(iloc, at)?);
        at += 2;
        c
    } else {
        let c = be32(iloc, at)?;
        at += 4;
        c
    };
    let mut out = Vec::new();
    for _ in 0..count.min(1 << 16) {
        let id = if version < 2 {
            at += 2;
            u32::from(be16(iloc, at - 2)?)
        } else {
            at += 4;
            be32(iloc, at - 4)?
        };
        let method = if version >= 1 {
            at += 2;
            be16(iloc, at - 2)? & 15
        } else {
            0
        };
        at += 2; // data_reference_index
        let base = field(iloc, &mut at, base_size)?;
        let extents = be16(iloc, at)?;
        at += 2;
        let mut loc = Location {
            in_idat: method == 1,
            extents: Vec::new(),
        };
        for _ in 0..extents {
            field(iloc, &mut at, index_size)?;
            let offset = field(iloc, &mut at, offset_size)?;
            let length = field(iloc, &mut at, length_size)?;
            loc.extents.push((base.checked_add(offset)?, length));
        }
        if method <= 1 {
            out.push((id, loc));
        }
    }
    Some(out)
}

/// `iref`: typed references from one item to others, in order.
fn references(iref: &[u8]) -> Option<Vec<Reference>> {
    let wide = *iref.first()? != 0;
    let id = |b: &[u8], at: usize| {
        if wide {
            be32(b, at)
        } else {
            be16(b, at).map(u32::from)
        }
    };
    let step = if wide { 4 } else { 2 };
    let mut out = Vec::new();
    for (kind, body) in boxes(iref.get(4..)?) {
        let from = id(body, 0)?;
        let count = usize::from(be16(body, step)?);
        let to = (0..count)
            .map(|n| id(body, step + 2 + n * step))
            .collect::<Option<Vec<u32>>>()?;
        out.push((kind, from, to));
    }
    Some(out)
}

#[cfg(test)]
#[path = "avif_grid_tests.rs"]
mod tests;
