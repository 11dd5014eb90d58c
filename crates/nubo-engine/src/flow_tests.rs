//! Conditions, variables and expressions run on real images.

use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_transform::{ClientHints, Resolved, Transformation};

use crate::{render, EngineError, EngineLimits, Job, Rendered};

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");
    std::fs::read(format!("{path}{name}")).unwrap()
}

/// `photo.jpg` is 40×30 (landscape), `faces/2009_004587.jpg` 400×500.
fn run(name: &str, t: &str) -> Result<Rendered, EngineError> {
    let plan = Resolved::new(
        &Transformation::parse(t).unwrap_or_else(|e| panic!("{t}: {e}")),
        Some(Format::Png),
        Format::Jpg,
        &ClientHints::default(),
    );
    render(
        &fixture(name),
        &Job::new(Format::Jpg, plan),
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(60),
    )
}

fn size(name: &str, t: &str) -> (u32, u32) {
    let r = run(name, t).unwrap_or_else(|e| panic!("{t}: {e}"));
    (r.width, r.height)
}

#[test]
fn if_blocks_choose_by_the_current_image() {
    let t = "if_w_gt_100/c_scale,w_10/if_else/c_scale,w_20/if_end";
    assert_eq!(size("photo.jpg", t), (20, 15));
    assert_eq!(size("faces/2009_004587.jpg", t), (10, 13));
    // Conditions read the image as earlier components left it.
    let t = "c_scale,w_200/if_w_lt_300/c_scale,w_50/if_end";
    assert_eq!(size("faces/2009_004587.jpg", t), (50, 63));
    // Aspect ratios, and and/or.
    let t = "if_ar_gt_1_and_w_lt_100/c_scale,h_3/if_end";
    assert_eq!(size("photo.jpg", t), (4, 3));
    assert_eq!(size("faces/2009_004587.jpg", t), (400, 500));
    let t = "if_ar_gt_5_or_ih_eq_500/c_scale,w_8/if_end";
    assert_eq!(size("faces/2009_004587.jpg", t), (8, 10));
    // Nested blocks: the inner one only runs when the outer does.
    let t = "if_w_gt_1/if_h_gt_1000/c_scale,w_1/if_else/c_scale,w_2/if_end/if_end";
    assert_eq!(size("photo.jpg", t).0, 2);
}

#[test]
fn inline_conditions_apply_to_their_component_only() {
    let t = "c_scale,w_20/if_ar_gt_1,c_scale,h_5/c_scale,w_10";
    // 40×30 → 20×15 → 7×5 (the condition holds) → 10×7.
    assert_eq!(size("photo.jpg", t), (10, 7));
    let t = "if_ar_lt_1,c_scale,w_5";
    assert_eq!(size("photo.jpg", t), (40, 30));
}

#[test]
fn variables_and_expressions_size_the_output() {
    assert_eq!(
        size("photo.jpg", "$half_iw_div_2,c_scale,w_$half"),
        (20, 15)
    );
    assert_eq!(
        size("photo.jpg", "$w_10/$h_$w_mul_2_add_1/c_fill,w_$w,h_$h"),
        (10, 21)
    );
    assert_eq!(
        size("photo.jpg", "c_crop,w_iw_sub_10,h_ih_div_3,x_5,y_5"),
        (30, 10)
    );
    // Later components see the earlier ones' output as w and h.
    assert_eq!(
        size("photo.jpg", "c_scale,w_20/c_scale,w_w_mul_3"),
        (60, 45)
    );
}

#[test]
fn face_count_drives_conditions() {
    let t = "if_fc_gte_1/c_thumb,g_face,h_50,w_50/if_else/c_scale,w_7/if_end";
    assert_eq!(size("faces/2009_004587.jpg", t), (50, 50));
    assert_eq!(size("photo.jpg", t), (7, 5));
    let t = "if_fc_eq_2/c_scale,w_9/if_end";
    assert_eq!(size("faces/2009_004587.jpg", t), (9, 11));
}

#[test]
fn bad_expressions_fail_as_the_callers_error() {
    for (t, needle) in [
        ("c_scale,w_$nope", "Undefined variable $nope"),
        ("c_scale,w_iw_div_0", "Division by zero"),
        ("c_scale,w_iw_sub_100", "Invalid width"),
        ("if_w_div_0_gt_1/w_1/if_end", "Division by zero"),
    ] {
        let e = run("photo.jpg", t).unwrap_err();
        assert!(matches!(e, EngineError::BadRequest(_)), "{t}: {e:?}");
        assert!(e.to_string().contains(needle), "{t}: {e}");
    }
}

/// `run` with the asset's tags, context and metadata set.
fn size_with(t: &str, data: &nubo_transform::expr::AssetData) -> (u32, u32) {
    let plan = Resolved::new(
        &Transformation::parse(t).unwrap_or_else(|e| panic!("{t}: {e}")),
        Some(Format::Png),
        Format::Jpg,
        &ClientHints::default(),
    );
    let mut job = Job::new(Format::Jpg, plan);
    job.asset = data.clone();
    let r = render(
        &fixture("photo.jpg"),
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{t}: {e}"));
    (r.width, r.height)
}

#[test]
fn conditions_read_the_assets_tags_context_and_metadata() {
    use nubo_transform::expr::{AssetData, MetaValue};
    let mut data = AssetData {
        tags: vec!["sale".into(), "in_stock".into()],
        ..Default::default()
    };
    data.context.insert("kind".into(), "shoes".into());
    data.metadata
        .insert("rating".into(), MetaValue::Text("4".into()));
    data.metadata.insert(
        "colors".into(),
        MetaValue::Set(vec!["red".into(), "blue".into()]),
    );
    let bare = AssetData::default();
    let t = "if_!sale:in_stock!_in_tags/c_scale,w_10/if_else/c_scale,w_20/if_end";
    assert_eq!(size_with(t, &data), (10, 8));
    assert_eq!(size_with(t, &bare), (20, 15));
    let t = "if_ctx:!kind!_eq_!shoes!_and_md:!rating!_gte_4,c_scale,w_8";
    assert_eq!(size_with(t, &data), (8, 6));
    assert_eq!(size_with(t, &bare), (40, 30));
    let t = "if_!red!_in_md:!colors!/c_scale,w_4/if_end";
    assert_eq!(size_with(t, &data), (4, 3));
    let t = "if_!sale!_nin_tags/c_scale,w_4/if_end";
    assert_eq!(size_with(t, &data), (40, 30));
    assert_eq!(size_with(t, &bare), (4, 3));
    // A number read from metadata feeds arithmetic.
    let t = "$r_md:!rating!/c_scale,w_$r_mul_5";
    assert_eq!(size_with(t, &data).0, 20);
    // Text variables compare as text.
    let t = "$k_!shoes!/if_ctx:!kind!_eq_$k/c_scale,w_6/if_end";
    assert_eq!(size_with(t, &data).0, 6);
    assert_eq!(size_with(t, &bare).0, 40);
}

#[test]
fn tar_reads_the_aspect_ratio_after_a_trim() {
    // 100×50 of white with a 20×20 black square: ar 2, tar 1.
    let mut img = image::RgbImage::from_pixel(100, 50, image::Rgb([255, 255, 255]));
    for y in 15..35 {
        for x in 40..60 {
            img.put_pixel(x, y, image::Rgb([0, 0, 0]));
        }
    }
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let size = |t: &str| {
        let plan = Resolved::new(
            &Transformation::parse(t).unwrap_or_else(|e| panic!("{t}: {e}")),
            Some(Format::Png),
            Format::Png,
            &ClientHints::default(),
        );
        let r = render(
            &png,
            &Job::new(Format::Png, plan),
            &EngineLimits::default(),
            Instant::now() + Duration::from_secs(60),
        )
        .unwrap_or_else(|e| panic!("{t}: {e}"));
        (r.width, r.height)
    };
    assert_eq!(size("if_tar_eq_1/c_scale,w_10/if_end"), (10, 5));
    assert_eq!(size("if_ar_eq_1/c_scale,w_10/if_end"), (100, 50));
    assert_eq!(size("c_scale,w_tar_mul_30"), (30, 15));
}
