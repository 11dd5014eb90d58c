//! Nubo: VP8's normal loop filter (15.3) with SSE2, a whole edge at a time.
//!
//! Each of the eight pixels across an edge (p3..p0 on one side, q0..q3 on
//! the other) becomes one vector whose 16 lanes run along the edge: 16
//! luma pixels, or 8 U then 8 V pixels. Edges between rows load rows
//! directly; edges between columns are transposed in and out. The maths
//! is libwebp's `dec_sse2.c`: signed saturating bytes give the
//! specification's clamps, so every pixel comes out as the portable filter
//! in `loop_filter.rs` makes it (the tests in Nubo's engine check both
//! against each other and against libwebp).

use core::arch::x86_64::*;

use crate::loop_filter::{MacroblockFilter, Planes};

/// The one entry point: SSE2 is part of the x86-64 baseline, which the
/// `cfg` on this module's declaration requires, so the call is sound.
pub(crate) fn filter_macroblock(p: &mut Planes<'_>, mbx: usize, mby: usize, f: &MacroblockFilter) {
    #[allow(unsafe_code)]
    unsafe {
        filter_macroblock_sse2(p, mbx, mby, f)
    }
}

/// The pixels across an edge: p3, p2, p1, p0, q0, q1, q2, q3.
type Across = [__m128i; 8];

#[derive(Clone, Copy)]
struct Limits {
    hev: u8,
    interior: u8,
    edge: u8,
}

/// Edges in the specification's order: left, inner vertical, top, inner
/// horizontal; each edge's luma, then its chroma.
#[target_feature(enable = "sse2")]
fn filter_macroblock_sse2(p: &mut Planes<'_>, mbx: usize, mby: usize, f: &MacroblockFilter) {
    let (lw, cw) = (p.luma_w, p.chroma_w);
    let mb = Limits {
        hev: f.hev_threshold,
        interior: f.interior_limit,
        edge: f.mb_edge_limit,
    };
    let sub = Limits {
        edge: f.sub_edge_limit,
        ..mb
    };
    let luma = mby * 16 * lw + mbx * 16;
    let chroma = mby * 8 * cw + mbx * 8;
    if f.left {
        let mut px = load_columns_luma(p.y, luma - 4, lw);
        macroblock_edge(&mut px, mb);
        store_columns_luma(p.y, luma - 4, lw, &px);
        let mut px = load_columns_chroma(p.u, p.v, chroma - 4, cw);
        macroblock_edge(&mut px, mb);
        store_columns_chroma(p.u, p.v, chroma - 4, cw, &px);
    }
    if f.inner {
        for x in [4, 8, 12] {
            let mut px = load_columns_luma(p.y, luma + x - 4, lw);
            subblock_edge(&mut px, sub);
            store_columns_luma(p.y, luma + x - 4, lw, &px);
        }
        let mut px = load_columns_chroma(p.u, p.v, chroma, cw);
        subblock_edge(&mut px, sub);
        store_columns_chroma(p.u, p.v, chroma, cw, &px);
    }
    if f.top {
        let mut px = load_rows_luma(p.y, luma, lw);
        macroblock_edge(&mut px, mb);
        store_rows_luma(p.y, luma, lw, &px[1..7], 3);
        let mut px = load_rows_chroma(p.u, p.v, chroma, cw);
        macroblock_edge(&mut px, mb);
        store_rows_chroma(p.u, p.v, chroma, cw, &px[1..7], 3);
    }
    if f.inner {
        for y in [4, 8, 12] {
            let at = luma + y * lw;
            let mut px = load_rows_luma(p.y, at, lw);
            subblock_edge(&mut px, sub);
            store_rows_luma(p.y, at, lw, &px[2..6], 2);
        }
        let at = chroma + 4 * cw;
        let mut px = load_rows_chroma(p.u, p.v, at, cw);
        subblock_edge(&mut px, sub);
        store_rows_chroma(p.u, p.v, at, cw, &px[2..6], 2);
    }
}

#[target_feature(enable = "sse2")]
fn load16(buf: &[u8], at: usize) -> __m128i {
    let bytes: [u8; 16] = buf[at..at + 16].try_into().unwrap();
    bytemuck::cast(bytes)
}

#[target_feature(enable = "sse2")]
fn store16(buf: &mut [u8], at: usize, v: __m128i) {
    let bytes: [u8; 16] = bytemuck::cast(v);
    buf[at..at + 16].copy_from_slice(&bytes);
}

/// Eight bytes into the low half.
#[target_feature(enable = "sse2")]
fn load8(buf: &[u8], at: usize) -> __m128i {
    let bytes: [u8; 8] = buf[at..at + 8].try_into().unwrap();
    _mm_cvtsi64_si128(i64::from_le_bytes(bytes))
}

/// The low half's eight bytes.
#[target_feature(enable = "sse2")]
fn store8(buf: &mut [u8], at: usize, v: __m128i) {
    buf[at..at + 8].copy_from_slice(&_mm_cvtsi128_si64(v).to_le_bytes());
}

#[target_feature(enable = "sse2")]
fn high_half(v: __m128i) -> __m128i {
    _mm_unpackhi_epi64(v, v)
}

/// The eight rows around the horizontal edge above row `at`'s pixel: 16
/// luma columns.
#[target_feature(enable = "sse2")]
fn load_rows_luma(y: &[u8], at: usize, stride: usize) -> Across {
    core::array::from_fn(|i| load16(y, at + i * stride - 4 * stride))
}

/// Rows `at - first * stride` onwards.
#[target_feature(enable = "sse2")]
fn store_rows_luma(y: &mut [u8], at: usize, stride: usize, rows: &[__m128i], first: usize) {
    for (i, &r) in rows.iter().enumerate() {
        store16(y, at + i * stride - first * stride, r);
    }
}

/// As `load_rows_luma` for 8 U then 8 V columns.
#[target_feature(enable = "sse2")]
fn load_rows_chroma(u: &[u8], v: &[u8], at: usize, stride: usize) -> Across {
    core::array::from_fn(|i| {
        let row = at + i * stride - 4 * stride;
        _mm_unpacklo_epi64(load8(u, row), load8(v, row))
    })
}

#[target_feature(enable = "sse2")]
fn store_rows_chroma(
    u: &mut [u8],
    v: &mut [u8],
    at: usize,
    stride: usize,
    rows: &[__m128i],
    first: usize,
) {
    for (i, &r) in rows.iter().enumerate() {
        let row = at + i * stride - first * stride;
        store8(u, row, r);
        store8(v, row, high_half(r));
    }
}

/// The 8 columns starting at `at`, for 16 rows down.
#[target_feature(enable = "sse2")]
fn load_columns_luma(y: &[u8], at: usize, stride: usize) -> Across {
    transpose_in(core::array::from_fn(|i| load8(y, at + i * stride)))
}

#[target_feature(enable = "sse2")]
fn store_columns_luma(y: &mut [u8], at: usize, stride: usize, px: &Across) {
    for (i, r) in transpose_out(px).into_iter().enumerate() {
        store8(y, at + i * stride, r);
    }
}

/// The 8 columns starting at `at`, 8 rows of U then 8 of V.
#[target_feature(enable = "sse2")]
fn load_columns_chroma(u: &[u8], v: &[u8], at: usize, stride: usize) -> Across {
    transpose_in(core::array::from_fn(|i| {
        let plane = if i < 8 { u } else { v };
        load8(plane, at + (i % 8) * stride)
    }))
}

#[target_feature(enable = "sse2")]
fn store_columns_chroma(u: &mut [u8], v: &mut [u8], at: usize, stride: usize, px: &Across) {
    for (i, r) in transpose_out(px).into_iter().enumerate() {
        let plane = if i < 8 { &mut *u } else { &mut *v };
        store8(plane, at + (i % 8) * stride, r);
    }
}

/// 16 rows of 8 bytes (low halves) to the 8 columns of 16 bytes.
#[target_feature(enable = "sse2")]
fn transpose_in(r: [__m128i; 16]) -> Across {
    // Column j of rows 2i, 2i+1 as 16-bit units.
    let a: [__m128i; 8] = core::array::from_fn(|i| _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]));
    // Rows 4k..4k+3 as 32-bit units: columns 0-3, then 4-7.
    let b: [__m128i; 8] = core::array::from_fn(|i| {
        let (x, y) = (a[i / 2 * 2], a[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm_unpacklo_epi16(x, y)
        } else {
            _mm_unpackhi_epi16(x, y)
        }
    });
    // Rows 0-7 (then 8-15) as 64-bit units: column pairs 01, 23, 45, 67.
    let c: [__m128i; 8] = core::array::from_fn(|i| {
        let (half, pair) = (i / 4, i % 4);
        let (x, y) = (b[4 * half + pair / 2], b[4 * half + 2 + pair / 2]);
        if pair % 2 == 0 {
            _mm_unpacklo_epi32(x, y)
        } else {
            _mm_unpackhi_epi32(x, y)
        }
    });
    core::array::from_fn(|j| {
        let (x, y) = (c[j / 2], c[4 + j / 2]);
        if j % 2 == 0 {
            _mm_unpacklo_epi64(x, y)
        } else {
            _mm_unpackhi_epi64(x, y)
        }
    })
}

/// The 8 columns back to 16 rows of 8 bytes (low halves).
#[target_feature(enable = "sse2")]
fn transpose_out(v: &Across) -> [__m128i; 16] {
    // d[2 * pair + half]: columns 2 pair and 2 pair + 1 of rows 8 half..8 half + 7
    // as 16-bit units.
    let d: [__m128i; 8] = core::array::from_fn(|i| {
        let (x, y) = (v[i / 2 * 2], v[i / 2 * 2 + 1]);
        if i % 2 == 0 {
            _mm_unpacklo_epi8(x, y)
        } else {
            _mm_unpackhi_epi8(x, y)
        }
    });
    // Rows 4g..4g + 3 as 32-bit units: columns 0-3 (left) and 4-7 (right).
    let quad = |g: usize, pairs: usize| {
        let (x, y) = (d[pairs * 2 + g / 2], d[pairs * 2 + 2 + g / 2]);
        if g % 2 == 0 {
            _mm_unpacklo_epi16(x, y)
        } else {
            _mm_unpackhi_epi16(x, y)
        }
    };
    let mut rows = [_mm_setzero_si128(); 16];
    for g in 0..4 {
        let (left, right) = (quad(g, 0), quad(g, 2));
        let (first, second) = (
            _mm_unpacklo_epi32(left, right),
            _mm_unpackhi_epi32(left, right),
        );
        rows[4 * g] = first;
        rows[4 * g + 1] = high_half(first);
        rows[4 * g + 2] = second;
        rows[4 * g + 3] = high_half(second);
    }
    rows
}

#[target_feature(enable = "sse2")]
fn abs_diff(a: __m128i, b: __m128i) -> __m128i {
    _mm_or_si128(_mm_subs_epu8(a, b), _mm_subs_epu8(b, a))
}

/// All ones in the lanes where `x <= t` (unsigned).
#[target_feature(enable = "sse2")]
fn at_most(x: __m128i, t: u8) -> __m128i {
    _mm_cmpeq_epi8(
        _mm_subs_epu8(x, _mm_set1_epi8(t as i8)),
        _mm_setzero_si128(),
    )
}

/// `should_filter`: the interior differences within `interior` and the
/// edge difference within `edge`.
#[target_feature(enable = "sse2")]
fn filter_mask(px: &Across, l: Limits) -> __m128i {
    let [p3, p2, p1, p0, q0, q1, q2, q3] = *px;
    let interior = [(p3, p2), (p2, p1), (p1, p0), (q3, q2), (q2, q1), (q1, q0)]
        .into_iter()
        .map(|(a, b)| abs_diff(a, b))
        .fold(_mm_setzero_si128(), |m, d| _mm_max_epu8(m, d));
    // 2 * |p0 - q0| + |p1 - q1| / 2, saturating at 255, above every limit.
    let half = _mm_srli_epi16(_mm_and_si128(abs_diff(p1, q1), _mm_set1_epi8(-2)), 1);
    let twice = _mm_adds_epu8(abs_diff(p0, q0), abs_diff(p0, q0));
    let edge = _mm_adds_epu8(twice, half);
    _mm_and_si128(at_most(interior, l.interior), at_most(edge, l.edge))
}

/// All ones where the edge variance is not high.
#[target_feature(enable = "sse2")]
fn not_high_variance(px: &Across, l: Limits) -> __m128i {
    let [_, _, p1, p0, q0, q1, _, _] = *px;
    at_most(_mm_max_epu8(abs_diff(p1, p0), abs_diff(q1, q0)), l.hev)
}

#[target_feature(enable = "sse2")]
fn flip(x: __m128i) -> __m128i {
    _mm_xor_si128(x, _mm_set1_epi8(-128))
}

/// Arithmetic shift right by 3 of signed bytes.
#[target_feature(enable = "sse2")]
fn shift3(x: __m128i) -> __m128i {
    let zero = _mm_setzero_si128();
    let lo = _mm_srai_epi16(_mm_unpacklo_epi8(zero, x), 11);
    let hi = _mm_srai_epi16(_mm_unpackhi_epi8(zero, x), 11);
    _mm_packs_epi16(lo, hi)
}

/// `c(outer + 3 * (q0 - p0))` on signed pixels; saturating each step
/// gives the same clamp, as the partial sums move one way once past zero.
#[target_feature(enable = "sse2")]
fn base_delta(outer: __m128i, p0: __m128i, q0: __m128i) -> __m128i {
    let q0_p0 = _mm_subs_epi8(q0, p0);
    let s = _mm_adds_epi8(outer, q0_p0);
    let s = _mm_adds_epi8(q0_p0, s);
    _mm_adds_epi8(q0_p0, s)
}

/// `common_adjust`: moves p0 by `(a + 3) >> 3` and q0 by `(a + 4) >> 3`,
/// and returns the latter with them.
#[target_feature(enable = "sse2")]
fn adjust_middle(p0: __m128i, q0: __m128i, a: __m128i) -> (__m128i, __m128i, __m128i) {
    let b = shift3(_mm_adds_epi8(a, _mm_set1_epi8(3)));
    let a = shift3(_mm_adds_epi8(a, _mm_set1_epi8(4)));
    (_mm_adds_epi8(p0, b), _mm_subs_epi8(q0, a), a)
}

/// `macroblock_filter_*` on all 16 lanes.
#[target_feature(enable = "sse2")]
fn macroblock_edge(px: &mut Across, l: Limits) {
    let mask = filter_mask(px, l);
    let not_hev = not_high_variance(px, l);
    let [p3, p2, p1, p0, q0, q1, q2, q3] = px.map(|x| flip(x));
    let a = base_delta(_mm_subs_epi8(p1, q1), p0, q0);
    // High variance: the common adjustment of p0 and q0 only.
    let (p0, q0, _) = adjust_middle(p0, q0, _mm_and_si128(a, _mm_andnot_si128(not_hev, mask)));
    // Otherwise: (27w + 63) >> 7, (18w + 63) >> 7, (9w + 63) >> 7 in 16 bits.
    let w = _mm_and_si128(a, _mm_and_si128(not_hev, mask));
    let zero = _mm_setzero_si128();
    // (w << 8) * (9 << 8) >> 16 = 9w.
    let k9 = _mm_set1_epi16(0x0900);
    let w9_lo = _mm_mulhi_epi16(_mm_unpacklo_epi8(zero, w), k9);
    let w9_hi = _mm_mulhi_epi16(_mm_unpackhi_epi8(zero, w), k9);
    let k63 = _mm_set1_epi16(63);
    let a2 = (_mm_add_epi16(w9_lo, k63), _mm_add_epi16(w9_hi, k63));
    let a1 = (_mm_add_epi16(a2.0, w9_lo), _mm_add_epi16(a2.1, w9_hi));
    let a0 = (_mm_add_epi16(a1.0, w9_lo), _mm_add_epi16(a1.1, w9_hi));
    let delta = |(lo, hi): (__m128i, __m128i)| {
        _mm_packs_epi16(_mm_srai_epi16(lo, 7), _mm_srai_epi16(hi, 7))
    };
    let (d2, d1, d0) = (delta(a2), delta(a1), delta(a0));
    *px = [
        p3,
        _mm_adds_epi8(p2, d2),
        _mm_adds_epi8(p1, d1),
        _mm_adds_epi8(p0, d0),
        _mm_subs_epi8(q0, d0),
        _mm_subs_epi8(q1, d1),
        _mm_subs_epi8(q2, d2),
        q3,
    ]
    .map(|x| flip(x));
}

/// `subblock_filter_*` on all 16 lanes.
#[target_feature(enable = "sse2")]
fn subblock_edge(px: &mut Across, l: Limits) {
    let mask = filter_mask(px, l);
    let not_hev = not_high_variance(px, l);
    let [p3, p2, p1, p0, q0, q1, q2, q3] = px.map(|x| flip(x));
    // The outer taps only where the variance is high.
    let outer = _mm_andnot_si128(not_hev, _mm_subs_epi8(p1, q1));
    let a = _mm_and_si128(base_delta(outer, p0, q0), mask);
    let (p0, q0, a) = adjust_middle(p0, q0, a);
    // (a + 1) >> 1 for signed a, via an unsigned average.
    let half = _mm_sub_epi8(
        _mm_avg_epu8(_mm_add_epi8(a, _mm_set1_epi8(-128)), _mm_setzero_si128()),
        _mm_set1_epi8(64),
    );
    let half = _mm_and_si128(not_hev, half);
    *px = [
        p3,
        p2,
        _mm_adds_epi8(p1, half),
        p0,
        q0,
        _mm_subs_epi8(q1, half),
        q2,
        q3,
    ]
    .map(|x| flip(x));
}
