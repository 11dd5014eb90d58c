//! The engine in-process over a set of files, for `bench/transform.sh`.
//!
//! engine_bench run <job> <outdir> FILES...   one thread, in order; jobs:
//!   thumb, web, avif (bench/transform.sh), web-animated (web keeping
//!   animations), thumb-png and thumb-webp (thumb as PNG and as WebP, for
//!   comparing decoding shortcuts), png-<N> (fit N×N as PNG), qauto-ref,
//!   qauto-jpg, qauto-webp, qauto-avif (bench/qauto.sh)
//! engine_bench score <reference.png> <output>           prints SSIMULACRA2
//! engine_bench calibrate FILES...                       q_auto's sample against
//!                                                       the whole picture

use std::path::Path;
use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_engine::{render, EngineLimits, Job};
use nubo_transform::{ClientHints, Resolved, Transformation};

/// The three anchor jobs: fit inside the box, never enlarge, strip.
fn job(name: &str) -> (String, Format) {
    // `avif-q<N>`: a fixed AVIF quality, for calibrating q_auto's AVIF levels.
    if let Some(q) = name.strip_prefix("avif-q") {
        return (format!("c_limit,h_1024,pg_1,q_{q},w_1024"), Format::Avif);
    }
    // `png-<N>`: fit N×N, lossless, for measuring decoding shortcuts.
    if let Some(n) = name.strip_prefix("png-") {
        return (format!("c_limit,h_{n},w_{n}"), Format::Png);
    }
    let (t, f) = match name {
        "thumb" => ("c_limit,h_300,w_300,q_80", Format::Jpg),
        // The same thumbnail lossless, to compare decoding shortcuts.
        "thumb-png" => ("c_limit,h_300,w_300", Format::Png),
        // And as WebP, an output that could keep an animation.
        "thumb-webp" => ("c_limit,h_300,w_300,q_80", Format::Webp),
        // anchors.md's jobs take the first frame of an animation, as libvips'
        // thumbnail does; `pg_1` asks Nubo for that. (Without it, WebP output
        // keeps an animated input animated, which is Cloudinary's default.)
        "web" => ("c_limit,h_1280,pg_1,q_80,w_1280", Format::Webp),
        // The same keeping animations, to price them.
        "web-animated" => ("c_limit,h_1280,w_1280,q_80", Format::Webp),
        "avif" => ("c_limit,h_800,w_800", Format::Avif),
        // bench/qauto.sh: a lossless reference, then q_auto:good per format;
        // stills (the first frame), as libvips' thumbnail makes.
        "qauto-ref" => ("c_limit,h_1024,pg_1,w_1024", Format::Png),
        "qauto-jpg" => ("c_limit,h_1024,pg_1,q_auto:good,w_1024", Format::Jpg),
        "qauto-webp" => ("c_limit,h_1024,pg_1,q_auto:good,w_1024", Format::Webp),
        "qauto-avif" => ("c_limit,h_1024,pg_1,q_auto:good,w_1024", Format::Avif),
        // The same at a fixed quality: what the q_auto search costs.
        "fixed-jpg" => ("c_limit,h_1024,pg_1,q_80,w_1024", Format::Jpg),
        "fixed-webp" => ("c_limit,h_1024,pg_1,q_80,w_1024", Format::Webp),
        "fixed-avif" => ("c_limit,h_1024,pg_1,q_78,w_1024", Format::Avif),
        other => panic!("unknown job {other}"),
    };
    (t.to_owned(), f)
}

fn input_format(path: &Path) -> Format {
    let mut f = std::fs::File::open(path).unwrap();
    let probe = nubo_engine::probe_reader(
        &mut std::io::BufReader::new(&mut f),
        nubo_engine::ProbeLimits {
            max_pixels: 1 << 32,
            max_frames: 10_000,
        },
    );
    match probe {
        Ok(nubo_engine::Probe::Image(i)) => i.format,
        _ => panic!("{} is not an image", path.display()),
    }
}

fn run(job_name: &str, out: &Path, files: &[String]) {
    let (t, format) = job(job_name);
    let t = Transformation::parse(&t).unwrap();
    std::fs::create_dir_all(out).unwrap();
    for f in files {
        let path = Path::new(f);
        let started = Instant::now();
        let bytes = std::fs::read(path).unwrap();
        let input = input_format(path);
        let plan = Resolved::new(&t, Some(format), input, &ClientHints::default());
        let job = Job::new(input, plan);
        let r = render(
            &bytes,
            &job,
            &EngineLimits::default(),
            Instant::now() + Duration::from_secs(600),
        )
        .unwrap_or_else(|e| panic!("{f}: {e}"));
        let stem = path.file_stem().unwrap().to_string_lossy();
        std::fs::write(out.join(format!("{stem}.{}", format.extension())), &r.bytes).unwrap();
        if std::env::var_os("BENCH_VERBOSE").is_some() {
            let quality = r.quality.map_or("null".into(), |q| q.to_string());
            eprintln!(
                "{{\"file\":{f:?},\"ms\":{},\"quality\":{quality}}}",
                started.elapsed().as_millis()
            );
        }
    }
}

fn score(reference: &str, output: &str) {
    use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};
    let load = |p: &str| {
        let img = image::open(p)
            .unwrap_or_else(|e| panic!("{p}: {e}"))
            .to_rgb32f();
        let (w, h) = img.dimensions();
        let px: Vec<[f32; 3]> = img.pixels().map(|p| p.0).collect();
        Rgb::new(
            px,
            w as usize,
            h as usize,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )
        .unwrap()
    };
    let s = compute_frame_ssimulacra2(load(reference), load(output)).unwrap();
    println!("{s:.2}");
}

/// How well the reduced copy `q_auto` measures predicts the whole
/// picture: per file, format and quality, the SSIMULACRA2 of both.
fn calibrate(files: &[String]) {
    use nubo_engine::{EncodeOptions, Picture, Raster};
    let trial = |r: &Raster, format: Format, q: u8| {
        let mut o = EncodeOptions::new(format);
        o.quality = q;
        let bytes = nubo_engine::encode::encode(&Picture::still(r.clone()), &o).unwrap();
        let limits = EngineLimits::default();
        let back =
            nubo_engine::decode::decode(&bytes, &nubo_engine::DecodeRequest::new(format), &limits)
                .unwrap();
        nubo_engine::qauto::score(r, &back.picture.first().flatten(o.background))
    };
    let t = Transformation::parse("c_limit,h_1024,w_1024").unwrap();
    println!("file\tformat\tquality\twhole\tsample");
    for f in files {
        let path = Path::new(f);
        let bytes = std::fs::read(path).unwrap();
        let input = input_format(path);
        let plan = Resolved::new(&t, Some(Format::Png), input, &ClientHints::default());
        let deadline = Instant::now() + Duration::from_secs(600);
        let r = render(
            &bytes,
            &Job::new(input, plan),
            &EngineLimits::default(),
            deadline,
        )
        .unwrap();
        let img = image::load_from_memory(&r.bytes).unwrap().to_rgb8();
        let whole = Raster::new(img.width(), img.height(), 3, img.into_raw());
        let sample = nubo_engine::qauto::sample(&whole).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy();
        for format in [Format::Jpg, Format::Webp] {
            for q in [40u8, 60, 80] {
                let (w, s) = (trial(&whole, format, q), trial(&sample, format, q));
                println!("{stem}\t{}\t{q}\t{w:.2}\t{s:.2}", format.extension());
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1], Path::new(&args[2]), &args[3..]),
        Some("score") => score(&args[1], &args[2]),
        Some("calibrate") => calibrate(&args[1..]),
        _ => {
            eprintln!("usage: engine_bench run JOB OUTDIR FILES... | engine_bench score REF OUT");
            std::process::exit(2);
        }
    }
}
