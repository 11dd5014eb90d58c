static CONST1: i64 = 20091;
static CONST2: i64 = 35468;

/// Nubo: on x86-64 the inverse DCT runs in SSE2's 16-bit lanes (libwebp's
/// form) whenever no value of the block can leave 16 bits on the way:
/// coefficients below 2^11 keep the second pass under 2^15, which covers
/// nearly every block of a real file. Other blocks and other targets take
/// the 64-bit form. Both give the same result wherever the 16-bit one runs.
pub(crate) fn idct4x4(block: &mut [i32]) {
    let block: &mut [i32; 16] = (&mut block[..16]).try_into().unwrap();
    if !simd_idct4x4(block) {
        idct4x4_i64(block);
    }
}

/// The SIMD transform where it exists and takes the block; `false` leaves
/// the block untouched.
fn simd_idct4x4(block: &mut [i32; 16]) -> bool {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: the function only needs SSE2 enabled, which every x86-64
        // target has (the cfg above checks it); its body is safe code.
        #[allow(unsafe_code)]
        unsafe {
            sse2::idct4x4(block)
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let _ = block;
        false
    }
}

/// Nubo: the SIMD inverse DCT and the portable one on the same block, for
/// the equivalence test in `nubo-engine` (this crate's own tests do not
/// run in Nubo's CI). The first is `None` where the SIMD form declines the
/// block or does not exist.
#[doc(hidden)]
pub fn idct4x4_simd_and_portable(block: [i32; 16]) -> (Option<[i32; 16]>, [i32; 16]) {
    let mut portable = block;
    idct4x4_i64(&mut portable);
    let mut simd = block;
    (simd_idct4x4(&mut simd).then_some(simd), portable)
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use core::arch::x86_64::*;

    #[target_feature(enable = "sse2")]
    fn load(block: &[i32; 16], row: usize) -> __m128i {
        let lanes: [i32; 4] = block[4 * row..4 * row + 4].try_into().unwrap();
        bytemuck::cast(lanes)
    }

    /// `(x * 35468) >> 16` needs `x + mulhi(x, 35468 - 65536)` in 16 bits.
    #[target_feature(enable = "sse2")]
    fn mul_k2(x: __m128i) -> __m128i {
        _mm_add_epi16(
            x,
            _mm_mulhi_epi16(x, _mm_set1_epi16((35468 - 65536) as i16)),
        )
    }

    /// `x + ((x * 20091) >> 16)`.
    #[target_feature(enable = "sse2")]
    fn mul_k1(x: __m128i) -> __m128i {
        _mm_add_epi16(x, _mm_mulhi_epi16(x, _mm_set1_epi16(20091)))
    }

    /// One 4-point pass down the columns of rows `x0..x3` (low 4 lanes each),
    /// then a transpose, so that the next pass works on the other direction.
    #[target_feature(enable = "sse2")]
    fn pass(x0: __m128i, x1: __m128i, x2: __m128i, x3: __m128i) -> [__m128i; 4] {
        let a = _mm_add_epi16(x0, x2);
        let b = _mm_sub_epi16(x0, x2);
        let c = _mm_sub_epi16(mul_k2(x1), mul_k1(x3));
        let d = _mm_add_epi16(mul_k1(x1), mul_k2(x3));
        let r0 = _mm_add_epi16(a, d);
        let r1 = _mm_add_epi16(b, c);
        let r2 = _mm_sub_epi16(b, c);
        let r3 = _mm_sub_epi16(a, d);
        // 4x4 transpose of 16-bit lanes.
        let t01 = _mm_unpacklo_epi16(r0, r1); // r0[0] r1[0] r0[1] r1[1] ...
        let t23 = _mm_unpacklo_epi16(r2, r3);
        let lo = _mm_unpacklo_epi32(t01, t23); // columns 0 and 1
        let hi = _mm_unpackhi_epi32(t01, t23); // columns 2 and 3
        [
            lo,
            _mm_unpackhi_epi64(lo, lo),
            hi,
            _mm_unpackhi_epi64(hi, hi),
        ]
    }

    /// Runs the transform when the block's coefficients all lie in
    /// [-2048, 2048); `false` leaves the block untouched.
    #[target_feature(enable = "sse2")]
    pub(super) fn idct4x4(block: &mut [i32; 16]) -> bool {
        let rows = [
            load(block, 0),
            load(block, 1),
            load(block, 2),
            load(block, 3),
        ];
        let bias = _mm_set1_epi32(2048);
        let biased = rows.map(|r| _mm_add_epi32(r, bias));
        let any = _mm_or_si128(
            _mm_or_si128(biased[0], biased[1]),
            _mm_or_si128(biased[2], biased[3]),
        );
        let outside = _mm_andnot_si128(_mm_set1_epi32(4095), any);
        if _mm_movemask_epi8(_mm_cmpeq_epi32(outside, _mm_setzero_si128())) != 0xFFFF {
            return false;
        }
        let r01 = _mm_packs_epi32(rows[0], rows[1]);
        let r23 = _mm_packs_epi32(rows[2], rows[3]);
        let [c0, c1, c2, c3] = pass(
            r01,
            _mm_unpackhi_epi64(r01, r01),
            r23,
            _mm_unpackhi_epi64(r23, r23),
        );
        let [o0, o1, o2, o3] = pass(c0, c1, c2, c3);
        let round = |x: __m128i| {
            let x = _mm_srai_epi16(_mm_add_epi16(x, _mm_set1_epi16(4)), 3);
            // sign-extend the low four lanes to 32 bits
            let words: [i32; 4] = bytemuck::cast(_mm_srai_epi32(_mm_unpacklo_epi16(x, x), 16));
            words
        };
        for (row, out) in [o0, o1, o2, o3].into_iter().enumerate() {
            block[4 * row..4 * row + 4].copy_from_slice(&round(out));
        }
        true
    }
}

fn idct4x4_i64(block: &mut [i32]) {
    // The intermediate results may overflow the types, so we stretch the type.
    fn fetch(block: &[i32], idx: usize) -> i64 {
        i64::from(block[idx])
    }

    // Perform one lenght check up front to avoid subsequent bounds checks in this function
    assert!(block.len() >= 16);

    for i in 0usize..4 {
        let a1 = fetch(block, i) + fetch(block, 8 + i);
        let b1 = fetch(block, i) - fetch(block, 8 + i);

        let t1 = (fetch(block, 4 + i) * CONST2) >> 16;
        let t2 = fetch(block, 12 + i) + ((fetch(block, 12 + i) * CONST1) >> 16);
        let c1 = t1 - t2;

        let t1 = fetch(block, 4 + i) + ((fetch(block, 4 + i) * CONST1) >> 16);
        let t2 = (fetch(block, 12 + i) * CONST2) >> 16;
        let d1 = t1 + t2;

        block[i] = (a1 + d1) as i32;
        block[4 + i] = (b1 + c1) as i32;
        block[4 * 3 + i] = (a1 - d1) as i32;
        block[4 * 2 + i] = (b1 - c1) as i32;
    }

    for i in 0usize..4 {
        let a1 = fetch(block, 4 * i) + fetch(block, 4 * i + 2);
        let b1 = fetch(block, 4 * i) - fetch(block, 4 * i + 2);

        let t1 = (fetch(block, 4 * i + 1) * CONST2) >> 16;
        let t2 = fetch(block, 4 * i + 3) + ((fetch(block, 4 * i + 3) * CONST1) >> 16);
        let c1 = t1 - t2;

        let t1 = fetch(block, 4 * i + 1) + ((fetch(block, 4 * i + 1) * CONST1) >> 16);
        let t2 = (fetch(block, 4 * i + 3) * CONST2) >> 16;
        let d1 = t1 + t2;

        block[4 * i] = ((a1 + d1 + 4) >> 3) as i32;
        block[4 * i + 3] = ((a1 - d1 + 4) >> 3) as i32;
        block[4 * i + 1] = ((b1 + c1 + 4) >> 3) as i32;
        block[4 * i + 2] = ((b1 - c1 + 4) >> 3) as i32;
    }
}

// 14.3
pub(crate) fn iwht4x4(block: &mut [i32]) {
    // Perform one length check up front to avoid subsequent bounds checks in this function
    assert!(block.len() >= 16);

    for i in 0usize..4 {
        let a1 = block[i] + block[12 + i];
        let b1 = block[4 + i] + block[8 + i];
        let c1 = block[4 + i] - block[8 + i];
        let d1 = block[i] - block[12 + i];

        block[i] = a1 + b1;
        block[4 + i] = c1 + d1;
        block[8 + i] = a1 - b1;
        block[12 + i] = d1 - c1;
    }

    for block in block.chunks_exact_mut(4) {
        let a1 = block[0] + block[3];
        let b1 = block[1] + block[2];
        let c1 = block[1] - block[2];
        let d1 = block[0] - block[3];

        let a2 = a1 + b1;
        let b2 = c1 + d1;
        let c2 = a1 - b1;
        let d2 = d1 - c1;

        block[0] = (a2 + 3) >> 3;
        block[1] = (b2 + 3) >> 3;
        block[2] = (c2 + 3) >> 3;
        block[3] = (d2 + 3) >> 3;
    }
}
