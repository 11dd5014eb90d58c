//! The engine in-process over a set of files, for `bench/transform.sh`.
//!
//! engine_bench run <thumb|web|avif> <outdir> FILES...   one thread, in order
//! engine_bench score <reference.png> <output>           prints SSIMULACRA2

use std::path::Path;
use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_engine::{render, EngineLimits, Job};
use nubo_transform::{ClientHints, Resolved, Transformation};

/// The three anchor jobs: fit inside the box, never enlarge, strip.
fn job(name: &str) -> (&'static str, Format) {
    match name {
        "thumb" => ("c_limit,h_300,w_300,q_80", Format::Jpg),
        "web" => ("c_limit,h_1280,w_1280,q_80", Format::Webp),
        "avif" => ("c_limit,h_800,w_800", Format::Avif),
        other => panic!("unknown job {other}"),
    }
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
    let t = Transformation::parse(t).unwrap();
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
            eprintln!("{f}\t{} ms", started.elapsed().as_millis());
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1], Path::new(&args[2]), &args[3..]),
        Some("score") => score(&args[1], &args[2]),
        _ => {
            eprintln!("usage: engine_bench run JOB OUTDIR FILES... | engine_bench score REF OUT");
            std::process::exit(2);
        }
    }
}
