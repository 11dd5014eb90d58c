//! [`Raster`]: 8-bit interleaved RGB or RGBA pixels, the one currency of
//! the pipeline, and [`Picture`]: one raster or the frames of an animation.

use nubo_transform::Color;

/// Straight-alpha (never premultiplied outside the resizer) sRGB pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: u8,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Raster({}x{}x{})",
            self.width, self.height, self.channels
        )
    }
}

impl Raster {
    pub fn new(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Raster {
        debug_assert_eq!(
            data.len(),
            width as usize * height as usize * channels as usize
        );
        Raster {
            width,
            height,
            channels,
            data,
        }
    }

    /// A canvas of one colour; RGBA unless the colour is opaque.
    pub fn filled(width: u32, height: u32, color: Color) -> Raster {
        let px: Vec<u8> = if color.is_opaque() {
            vec![color.r, color.g, color.b]
        } else {
            vec![color.r, color.g, color.b, color.a]
        };
        let n = width as usize * height as usize;
        let mut data = Vec::with_capacity(n * px.len());
        for _ in 0..n {
            data.extend_from_slice(&px);
        }
        Raster::new(width, height, px.len() as u8, data)
    }

    pub fn has_alpha(&self) -> bool {
        self.channels == 4
    }

    pub fn stride(&self) -> usize {
        self.width as usize * self.channels as usize
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let c = self.channels as usize;
        let i = (y as usize * self.width as usize + x as usize) * c;
        let p = &self.data[i..i + c];
        [p[0], p[1], p[2], if c == 4 { p[3] } else { 255 }]
    }

    /// Adds an opaque alpha channel if there is none.
    pub fn to_rgba(&self) -> Raster {
        if self.channels == 4 {
            return self.clone();
        }
        let mut data = Vec::with_capacity(self.data.len() / 3 * 4);
        for p in self.data.chunks_exact(3) {
            data.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        Raster::new(self.width, self.height, 4, data)
    }

    /// True when some pixel is not fully opaque.
    pub fn uses_alpha(&self) -> bool {
        self.channels == 4 && self.data.chunks_exact(4).any(|p| p[3] != 255)
    }

    /// Composites onto an opaque background and drops alpha.
    pub fn flatten(&self, bg: Color) -> Raster {
        if self.channels == 3 {
            return self.clone();
        }
        let mut data = Vec::with_capacity(self.data.len() / 4 * 3);
        for p in self.data.chunks_exact(4) {
            let a = p[3] as u32;
            let mix = |c: u8, b: u8| ((c as u32 * a + b as u32 * (255 - a) + 127) / 255) as u8;
            data.extend_from_slice(&[mix(p[0], bg.r), mix(p[1], bg.g), mix(p[2], bg.b)]);
        }
        Raster::new(self.width, self.height, 3, data)
    }

    /// Copies a rectangle out (clamped to the raster).
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Raster {
        let x = x.min(self.width.saturating_sub(1));
        let y = y.min(self.height.saturating_sub(1));
        let w = w.clamp(1, self.width - x);
        let h = h.clamp(1, self.height - y);
        let c = self.channels as usize;
        let mut data = Vec::with_capacity(w as usize * h as usize * c);
        for row in y..y + h {
            let start = (row as usize * self.width as usize + x as usize) * c;
            data.extend_from_slice(&self.data[start..start + w as usize * c]);
        }
        Raster::new(w, h, self.channels, data)
    }

    /// Draws `top` over `self` at (x, y) with alpha blending.
    pub fn composite(&mut self, top: &Raster, x: i64, y: i64) {
        let c = self.channels as usize;
        let tc = top.channels as usize;
        for ty in 0..top.height as i64 {
            let dy = y + ty;
            if dy < 0 || dy >= self.height as i64 {
                continue;
            }
            for tx in 0..top.width as i64 {
                let dx = x + tx;
                if dx < 0 || dx >= self.width as i64 {
                    continue;
                }
                let si = (ty as usize * top.width as usize + tx as usize) * tc;
                let di = (dy as usize * self.width as usize + dx as usize) * c;
                let s = &top.data[si..si + tc];
                let sa = if tc == 4 { s[3] as u32 } else { 255 };
                let d = &mut self.data[di..di + c];
                let da = if c == 4 { d[3] as u32 } else { 255 };
                // Porter-Duff "over" with straight alpha.
                let oa = sa + da * (255 - sa) / 255;
                for k in 0..3 {
                    let v = (s[k] as u32 * sa + d[k] as u32 * da * (255 - sa) / 255)
                        .checked_div(oa)
                        .unwrap_or(0);
                    d[k] = v.min(255) as u8;
                }
                if c == 4 {
                    d[3] = oa.min(255) as u8;
                }
            }
        }
    }
}

/// One frame of a picture, with how long it shows.
#[derive(Debug, Clone)]
pub struct Frame {
    pub raster: Raster,
    pub delay_ms: u32,
}

/// A still image (one frame) or an animation.
#[derive(Debug, Clone)]
pub struct Picture {
    pub frames: Vec<Frame>,
    /// 0 = forever.
    pub loop_count: u16,
}

impl Picture {
    pub fn still(raster: Raster) -> Picture {
        Picture {
            frames: vec![Frame {
                raster,
                delay_ms: 0,
            }],
            loop_count: 0,
        }
    }

    pub fn is_animated(&self) -> bool {
        self.frames.len() > 1
    }

    pub fn first(&self) -> &Raster {
        &self.frames[0].raster
    }

    pub fn width(&self) -> u32 {
        self.first().width
    }

    pub fn height(&self) -> u32 {
        self.first().height
    }

    /// Applies `f` to every frame.
    pub fn try_map<E>(self, mut f: impl FnMut(Raster) -> Result<Raster, E>) -> Result<Picture, E> {
        let frames = self
            .frames
            .into_iter()
            .map(|fr| {
                Ok(Frame {
                    raster: f(fr.raster)?,
                    delay_ms: fr.delay_ms,
                })
            })
            .collect::<Result<_, E>>()?;
        Ok(Picture {
            frames,
            loop_count: self.loop_count,
        })
    }
}
