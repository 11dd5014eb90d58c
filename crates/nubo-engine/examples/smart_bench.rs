//! Smart transformations measured, for `bench/smart.sh`.
//!
//! smart_bench faces DIR [NEGATIVE.jpg...]
//!     Precision and recall of the face detector against the labelled
//!     boxes of dlib's `DIR/training.xml` and `DIR/testing.xml` (PASCAL
//!     VOC photos); the negatives have no faces, so all they can add is
//!     false positives.
//! smart_bench cost FILES...
//!     Milliseconds per image of `c_fill` with centre, `g_auto` and
//!     `g_face` gravity, interleaved, single-threaded, and the extra cost
//!     of each smart gravity over the plain fill.

use std::path::Path;
use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_engine::{faces, render, EngineLimits, Job, Raster};
use nubo_transform::{ClientHints, Region, Resolved, Transformation};

fn labels(dir: &Path) -> Vec<(String, Vec<[f64; 4]>)> {
    let mut out = Vec::new();
    for xml in ["training.xml", "testing.xml"] {
        let text = std::fs::read_to_string(dir.join(xml)).unwrap_or_else(|e| panic!("{xml}: {e}"));
        let doc = roxmltree::Document::parse(&text).unwrap();
        for image in doc.descendants().filter(|n| n.has_tag_name("image")) {
            let num = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            let boxes = image
                .children()
                .filter(|n| n.has_tag_name("box"))
                .map(|b| {
                    [
                        num(b, "left"),
                        num(b, "top"),
                        num(b, "width"),
                        num(b, "height"),
                    ]
                })
                .collect();
            out.push((image.attribute("file").unwrap().to_owned(), boxes));
        }
    }
    out
}

fn iou(a: &Region, b: &[f64; 4]) -> f64 {
    let ix = ((a.x + a.w).min(b[0] + b[2]) - a.x.max(b[0])).max(0.0);
    let iy = ((a.y + a.h).min(b[1] + b[3]) - a.y.max(b[1])).max(0.0);
    let i = ix * iy;
    i / (a.area() + b[2] * b[3] - i)
}

fn raster(path: &Path) -> Raster {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    Raster::new(img.width(), img.height(), 3, img.into_raw())
}

/// Greedy matching, best overlap first; a detection matches one label.
fn matches(found: &[Region], truth: &[[f64; 4]], min_iou: f64) -> usize {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, f) in found.iter().enumerate() {
        for (j, t) in truth.iter().enumerate() {
            pairs.push((iou(f, t), i, j));
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_f, mut used_t) = (vec![false; found.len()], vec![false; truth.len()]);
    let mut n = 0;
    for (v, i, j) in pairs {
        if v >= min_iou && !used_f[i] && !used_t[j] {
            used_f[i] = true;
            used_t[j] = true;
            n += 1;
        }
    }
    n
}

fn eval_faces(dir: &Path, negatives: &[String]) {
    let mut set = labels(dir);
    for n in negatives {
        set.push((n.clone(), Vec::new()));
    }
    let (mut faces_n, mut found_n, mut ms) = (0usize, 0usize, 0.0);
    let mut hits = [0usize; 2];
    for (file, truth) in &set {
        let r = raster(&dir.join(file));
        let t = Instant::now();
        let found = faces::detect(&r);
        ms += t.elapsed().as_secs_f64() * 1000.0;
        faces_n += truth.len();
        found_n += found.len();
        for (k, min) in [0.5, 0.4].iter().enumerate() {
            hits[k] += matches(&found, truth, *min);
        }
        eprintln!("{file}: {} labelled, {} found", truth.len(), found.len());
    }
    println!(
        "images {}  labelled faces {faces_n}  detections {found_n}  detector {:.1} ms/image",
        set.len(),
        ms / set.len() as f64
    );
    for (k, min) in [0.5, 0.4].iter().enumerate() {
        println!(
            "IoU >= {min}: precision {:.3}  recall {:.3}",
            hits[k] as f64 / found_n.max(1) as f64,
            hits[k] as f64 / faces_n.max(1) as f64
        );
    }
}

fn render_ms(bytes: &[u8], input: Format, t: &Transformation) -> f64 {
    let plan = Resolved::new(t, Some(Format::Jpg), input, &ClientHints::default());
    let job = Job::new(input, plan);
    let started = Instant::now();
    render(
        bytes,
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(600),
    )
    .unwrap();
    started.elapsed().as_secs_f64() * 1000.0
}

fn cost(files: &[String]) {
    let variants = [
        ("c_fill", "c_fill,h_300,w_300,q_80"),
        ("g_auto", "c_fill,g_auto,h_300,w_300,q_80"),
        ("g_face", "c_fill,g_face,h_300,w_300,q_80"),
    ];
    let plans: Vec<Transformation> = variants
        .iter()
        .map(|(_, t)| Transformation::parse(t).unwrap())
        .collect();
    let mut totals = [0.0f64; 3];
    let mut n = 0;
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        let Some(input) = Path::new(f)
            .extension()
            .and_then(|e| Format::from_extension(&e.to_string_lossy().to_lowercase()))
            .filter(|f| matches!(f, Format::Jpg | Format::Png | Format::Webp))
        else {
            continue;
        };
        let mut row = [0.0; 3];
        for (i, t) in plans.iter().enumerate() {
            row[i] = render_ms(&bytes, input, t);
        }
        eprintln!("{f}\t{:.1}\t{:.1}\t{:.1}", row[0], row[1], row[2]);
        for i in 0..3 {
            totals[i] += row[i];
        }
        n += 1;
    }
    let mean = |i: usize| totals[i] / n.max(1) as f64;
    println!("images {n} (JPEG, PNG, WebP), ms per image, one thread:");
    for (i, (name, t)) in variants.iter().enumerate() {
        let extra = if i == 0 {
            String::new()
        } else {
            format!("  (+{:.1} ms over c_fill)", mean(i) - mean(0))
        };
        println!("  {name:<7} {:7.1}  {t}{extra}", mean(i));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("faces") => eval_faces(Path::new(&args[1]), &args[2..]),
        Some("cost") => cost(&args[1..]),
        _ => {
            eprintln!("usage: smart_bench faces DIR [NEGATIVES...] | smart_bench cost FILES...");
            std::process::exit(2);
        }
    }
}
