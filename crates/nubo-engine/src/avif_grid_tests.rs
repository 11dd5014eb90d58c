//! Grid AVIFs written by libavif's `avifenc --grid`, against `avifdec`.

use super::*;
use crate::avif::tests::{fixture, full as decode_avif, psnr, reference};

/// The 3×2 photo grid's payload: version 0, flags 0, rows − 1 = 1,
/// columns − 1 = 2, output 300×200.
const PAYLOAD: [u8; 8] = [0, 0, 1, 2, 0x01, 0x2c, 0x00, 0xc8];

/// The photo grid with its payload replaced.
fn with_payload(payload: [u8; 8]) -> Vec<u8> {
    let mut bytes = fixture("photo-grid.avif");
    let at = bytes
        .windows(8)
        .position(|w| w == PAYLOAD)
        .expect("the grid payload");
    bytes[at..at + 8].copy_from_slice(&payload);
    bytes
}

#[test]
fn the_item_tables_are_read() {
    let bytes = fixture("photo-grid.avif");
    let items = Items::read(&bytes).expect("item tables");
    assert!(items.primary_is_grid());
    assert_eq!(items.kinds.len(), 7);
    assert_eq!(
        items.referenced(b"dimg", items.primary),
        &[2, 3, 4, 5, 6, 7]
    );
    let spec = Spec::parse(&items.data(items.primary).unwrap()).unwrap();
    let want = Spec {
        rows: 2,
        columns: 3,
        width: 300,
        height: 200,
    };
    assert_eq!(spec, want);
    assert!(items.alpha().is_none());
    // A single-image file is not a grid.
    let single = fixture("photo-420.avif");
    assert!(!Items::read(&single).unwrap().primary_is_grid());
}

#[test]
fn grid_payloads_parse() {
    let wide = [0, 1, 0, 3, 0, 0, 0x40, 0, 0, 0, 0x20, 0];
    let spec = Spec::parse(&wide).unwrap();
    assert_eq!(
        (spec.rows, spec.columns, spec.width, spec.height),
        (1, 4, 16384, 8192)
    );
    assert!(
        Spec::parse(&[1, 0, 0, 0, 0, 1, 0, 1]).is_none(),
        "version 1"
    );
    assert!(
        Spec::parse(&[0, 0, 0, 0, 0, 0, 0, 1]).is_none(),
        "zero width"
    );
    assert!(Spec::parse(&[0, 1, 0, 0, 0, 0, 1]).is_none(), "short");
}

#[test]
fn a_photo_grid_decodes_as_libavif_does() {
    let (r, _) = decode_avif(&fixture("photo-grid.avif"), 1 << 30).unwrap();
    let want = reference("photo-grid").to_rgb8();
    assert_eq!((r.width, r.height, r.channels), (300, 200, 3));
    let p = psnr(&r.data, want.as_raw());
    assert!(p > 40.0, "{p:.1} dB against libavif");
}

#[test]
fn an_alpha_grid_gives_the_alpha_plane() {
    let bytes = fixture("alpha-grid.avif");
    let items = Items::read(&bytes).unwrap();
    assert!(items.alpha().is_some());
    let (r, _) = decode_avif(&bytes, 1 << 30).unwrap();
    let want = reference("alpha-grid").to_rgba8();
    assert_eq!((r.width, r.height, r.channels), (232, 132, 4));
    let alpha = |d: &[u8]| d.chunks_exact(4).map(|p| p[3]).collect::<Vec<_>>();
    assert!(alpha(&r.data).contains(&0), "no transparent pixels");
    let p = psnr(&alpha(&r.data), &alpha(want.as_raw()));
    assert!(p > 40.0, "alpha {p:.1} dB against libavif");
    let p = psnr(&r.data, want.as_raw());
    assert!(p > 35.0, "RGBA {p:.1} dB against libavif");
}

/// Tiles may overhang the output on the right and bottom: 290×192 of the
/// 300×200 the tiles cover is the reference's top-left corner.
#[test]
fn overhanging_tiles_are_cropped() {
    let bytes = with_payload([0, 0, 1, 2, 0x01, 0x22, 0x00, 0xc0]);
    let (r, _) = decode_avif(&bytes, 1 << 30).unwrap();
    assert_eq!((r.width, r.height), (290, 192));
    let want = reference("photo-grid").crop_imm(0, 0, 290, 192).to_rgb8();
    let p = psnr(&r.data, want.as_raw());
    assert!(p > 40.0, "{p:.1} dB against the reference's corner");
}

#[test]
fn inconsistent_grids_are_errors() {
    let cases = [
        // Three rows named, six tiles referenced.
        ([0, 0, 2, 2, 0x01, 0x2c, 0x00, 0xc8], "tile count"),
        // Wider than three 100 px tiles reach.
        ([0, 0, 1, 2, 0x01, 0x90, 0x00, 0xc8], "do not cover"),
        // So narrow that the third column lies wholly outside.
        ([0, 0, 1, 2, 0x00, 0xc8, 0x00, 0xc8], "do not cover"),
    ];
    for (payload, want) in cases {
        match decode_avif(&with_payload(payload), 1 << 30) {
            Err(EngineError::InvalidImage(m)) => assert!(m.contains(want), "{m}"),
            other => panic!("{payload:?}: {:?}", other.map(|(r, _)| (r.width, r.height))),
        }
    }
    assert!(matches!(
        decode_avif(&fixture("photo-grid.avif"), 300 * 200 - 1),
        Err(EngineError::TooLarge(_))
    ));
}

#[test]
fn damaged_grids_are_errors_not_panics() {
    let bytes = fixture("alpha-grid.avif");
    for cut in [0, 40, 300, 600, bytes.len() / 2, bytes.len() - 1] {
        assert!(decode_avif(&bytes[..cut], 1 << 30).is_err(), "cut at {cut}");
    }
    // A fixed xorshift sequence of byte changes, mostly in the item tables.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..300 {
        let mut bad = bytes.clone();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % 800) as usize;
            bad[at] ^= (state >> 32) as u8 | 1;
        }
        if let Ok((r, _)) = decode_avif(&bad, 1 << 22) {
            assert!(u64::from(r.width) * u64::from(r.height) <= 1 << 22);
        }
    }
}
