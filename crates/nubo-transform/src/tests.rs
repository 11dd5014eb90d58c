//! Grammar table tests: canonical forms, refusals, expansion, hints.

use super::*;

fn canon(s: &str) -> String {
    Transformation::parse(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .to_string()
}

fn err(s: &str) -> String {
    match Transformation::parse(s) {
        Ok(t) => panic!("{s} parsed as {t}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn canonical_forms() {
    let table = [
        ("w_100,c_fill", "c_fill,w_100"),
        ("c_fill,w_100", "c_fill,w_100"),
        (
            "h_100,w_100,c_fill,g_north_west",
            "c_fill,g_north_west,h_100,w_100",
        ),
        ("w_0.5", "w_0.5"),
        ("w_1.", "w_1.0"),
        ("w_1", "w_1"),
        ("e_blur", "e_blur:100"),
        ("e_blur:100", "e_blur:100"),
        ("e_sepia", "e_sepia:80"),
        ("e_improve:indoor", "e_improve:indoor:100"),
        ("e_tint", "e_tint:60:rgb:ff0000"),
        (
            "e_tint:equalize:80:red:blue:50p",
            "e_tint:equalize:80:rgb:ff0000:rgb:0000ff:50p",
        ),
        ("e_trim:20:white", "e_trim:20:rgb:ffffff"),
        ("e_replace_color:maroon", "e_replace_color:rgb:800000:50"),
        (
            "e_replace_color:2f4f4f:20:96c957",
            "e_replace_color:rgb:2f4f4f:20:rgb:96c957",
        ),
        ("e_gradient_fade", "e_gradient_fade:20"),
        (
            "e_gradient_fade:symmetric_pad:40,x_-0.3",
            "e_gradient_fade:symmetric_pad:40,x_-0.3",
        ),
        ("e_assist_colorblind", "e_assist_colorblind:10"),
        ("e_assist_colorblind:xray", "e_assist_colorblind:xray"),
        ("e_blur_faces", "e_blur_faces:500"),
        ("e_shadow", "e_shadow:40"),
        (
            "co_red,e_shadow:60,x_-4,y_4",
            "co_rgb:ff0000,e_shadow:60,x_-4,y_4",
        ),
        ("e_outline", "e_outline:outer:5:0"),
        ("e_outline:inner:2:200", "e_outline:inner:2:200"),
        ("e_outline:7", "e_outline:outer:7:0"),
        ("e_pixelate_faces:9", "e_pixelate_faces:9"),
        ("b_red", "b_rgb:ff0000"),
        ("b_rgb:FFF", "b_rgb:ffffff"),
        ("b_auto", "b_auto:border"),
        ("b_blurred", "b_blurred:100:0"),
        ("co_rgb:00ff0080", "co_rgb:00ff0080"),
        ("q_auto", "q_auto:good"),
        ("q_auto:eco", "q_auto:eco"),
        ("q_80:444", "q_80:444"),
        ("f_jpeg", "f_jpg"),
        ("f_auto", "f_auto"),
        ("dpr_2", "dpr_2.0"),
        ("dpr_1.5", "dpr_1.5"),
        ("a_auto_right.hflip", "a_auto_right.hflip"),
        ("a_-45", "a_-45"),
        ("r_10:10:10:10", "r_10"),
        ("r_10:20", "r_10:20:10:20"),
        ("r_1:2:3", "r_1:2:3:2"),
        ("bo_4px_solid_rgb:FF0000", "bo_4px_solid_rgb:ff0000"),
        (
            "fl_strip_profile.progressive",
            "fl_progressive.strip_profile",
        ),
        ("fl_attachment:my-file", "fl_attachment:my-file"),
        ("fl_keep_iptc.progressive", "fl_progressive.keep_iptc"),
        ("ar_16:9,c_fill,w_400", "ar_16:9,c_fill,w_400"),
        ("ar_1.5", "ar_1.5"),
        ("d_folder:ph.png", "d_folder:ph.png"),
        ("t_thumb", "t_thumb"),
        ("t_a.b", "t_a.b"),
        ("pg_2", "pg_2"),
        ("o_50", "o_50"),
        (
            "x_-10,y_0.25,c_crop,w_10,h_10",
            "c_crop,h_10,w_10,x_-10,y_0.25",
        ),
        (
            "z_1.5,c_thumb,w_10,h_10,g_face",
            "c_thumb,g_face,h_10,w_10,z_1.5",
        ),
        ("g_faces:center", "g_faces:center"),
        ("cs_srgb", "cs_srgb"),
        ("dn_300", "dn_300"),
        ("w_200,c_fill/a_90/e_sepia", "c_fill,w_200/a_90/e_sepia:80"),
        ("w_100,w_200", "w_200"),
    ];
    for (input, want) in table {
        assert_eq!(canon(input), want, "{input}");
    }
}

#[test]
fn canonical_form_is_a_fixed_point() {
    // Round trip: printing then parsing again changes nothing.
    for s in [
        "c_fill,g_south_east,h_100,w_0.5,x_3,y_-4/e_tint:equalize:10:red:20p:blue/fl_attachment",
        "a_exif.vflip.17,b_rgb:00000080,bo_2px_solid_black,co_white,o_10,r_max",
        "c_lpad,dpr_auto,f_auto,q_auto:low,w_300",
        "ar_4:3,c_crop,e_pixelate_region:20,fl_lossy.png8.strip_profile,pg_3",
    ] {
        let once = canon(s);
        assert_eq!(canon(&once), once, "{s}");
        assert_eq!(
            Transformation::parse(&once).unwrap(),
            Transformation::parse(s).unwrap()
        );
    }
}

#[test]
fn bad_values_name_the_parameter() {
    let table = [
        ("w_abc", "Invalid width in transformation: abc"),
        ("h_0", "Invalid height in transformation: 0"),
        ("c_squash", "Invalid crop in transformation: squash"),
        ("g_up", "Invalid gravity in transformation: up"),
        ("q_0", "Invalid quality in transformation: 0"),
        ("q_101", "Invalid quality in transformation: 101"),
        ("q_80:411", "Invalid quality in transformation: 80:411"),
        ("f_exe", "Invalid format in transformation: exe"),
        ("dpr_9", "Invalid dpr in transformation: 9"),
        ("e_sparkle", "Invalid effect in transformation: sparkle"),
        ("e_blur:0", "Invalid effect in transformation: blur:0"),
        ("e_blur:1:2", "Invalid effect in transformation: blur:1:2"),
        (
            "e_replace_color:notacolour",
            "Invalid effect in transformation: replace_color:notacolour",
        ),
        (
            "e_replace_color:red:101",
            "Invalid effect in transformation: replace_color:red:101",
        ),
        (
            "e_gradient_fade:sideways",
            "Invalid effect in transformation: gradient_fade:sideways",
        ),
        (
            "e_assist_colorblind:0",
            "Invalid effect in transformation: assist_colorblind:0",
        ),
        ("r_1:2:3:4:5", "Invalid radius in transformation: 1:2:3:4:5"),
        (
            "bo_4px_dashed_red",
            "Invalid border in transformation: 4px_dashed_red",
        ),
        (
            "b_notacolour",
            "Invalid background in transformation: notacolour",
        ),
        ("o_101", "Invalid opacity in transformation: 101"),
        ("fl_bogus", "Invalid flag in transformation: bogus"),
        (
            "fl_attachment:a\"b",
            "Invalid flag in transformation: attachment:a\"b",
        ),
        ("ar_0:1", "Invalid aspect_ratio in transformation: 0:1"),
        ("a_up", "Invalid angle in transformation: up"),
        ("pg_0", "Invalid page in transformation: 0"),
        ("zz_1", "Invalid transformation component: zz_1"),
        ("w100", "Invalid transformation component: w100"),
        ("w_", "Invalid transformation component: w_"),
        ("c_fill,,w_1", "Invalid transformation component: "),
        (
            "t_a b",
            "Invalid transformation name in transformation: a b",
        ),
    ];
    for (input, want) in table {
        assert_eq!(err(input), want, "{input}");
    }
}

#[test]
fn unsupported_keys_are_refused_by_name() {
    for (input, needle) in [
        ("l_video:dog", "Layers of video files"),
        ("w_10,e_multiply", "e_multiply outside a layer"),
        ("if_w_gt_1/l_logo/if_end", "l_/u_ inside a conditional"),
        ("w_du_add_1", "The du operand"),
        ("if_w_gt_1/f_png/if_end", "f_ inside a conditional"),
        ("w_auto", "Automatic width"),
        ("vc_h264", "Video codec"),
        ("e_outline:fill", "Outline mode fill"),
        ("e_gen_remove:prompt_x", "Effect gen_remove"),
        ("c_imagga_crop", "Imagga"),
        ("fl_clip", "Flag clip"),
        ("fl_keep_attribution", "Flag keep_attribution"),
        ("f_heic", "Output format heic"),
        ("q_jpegmini", "q_jpegmini"),
        ("g_ocr_text", "Gravity ocr_text"),
        ("pg_2-4", "Page selection"),
        ("cs_keep_cmyk", "Color space keep_cmyk"),
        ("b_gen_fill", "Background gen_fill"),
    ] {
        let e = err(input);
        assert!(e.contains(needle), "{input}: {e}");
        assert!(e.ends_with("not supported by this server"), "{input}: {e}");
    }
}

#[test]
fn conditions_and_variables_parse_to_a_canonical_form() {
    let table = [
        // Block form; the condition stays first, the rest is sorted.
        (
            "if_w_gt_300/w_300,c_scale/if_else/w_100/if_end",
            "if_w_gt_300/c_scale,w_300/if_else/w_100/if_end",
        ),
        // Inline condition and variables, which keep their order.
        (
            "w_$small,$small_100,if_ar_gt_1",
            "if_ar_gt_1,$small_100,w_$small",
        ),
        ("$b_$a_mul_2,$a_10,h_$b", "$b_$a_mul_2,$a_10,h_$b"),
        ("w_iw_div_2,c_scale", "c_scale,w_iw_div_2"),
        ("x_w_sub_10,y_0,c_crop,w_5", "c_crop,w_5,x_w_sub_10,y_0"),
        ("$label_!Hello!", "$label_!Hello!"),
        (
            "if_fc_gte_1_and_w_lt_2000/c_thumb,g_face,w_100/if_end",
            "if_fc_gte_1_and_w_lt_2000/c_thumb,g_face,w_100/if_end",
        ),
    ];
    for (input, want) in table {
        let t = Transformation::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(t.to_string(), want, "{input}");
        assert_eq!(Transformation::parse(want).unwrap().to_string(), want);
    }
    // Still plain values: angles with underscores and negative offsets.
    let t = Transformation::parse("a_auto_right,x_-10").unwrap();
    assert!(t.components[0].exprs.is_empty());
}

#[test]
fn conditional_blocks_must_balance() {
    for (input, needle) in [
        ("if_w_gt_1/w_10", "if_ without if_end"),
        ("w_10/if_end", "if_end without if_"),
        ("if_else", "if_else without if_"),
        ("if_w_gt_1/if_else/if_else/if_end", "two if_else"),
        ("if_w_gt_1/if_else,w_2/if_end", "if_else stands alone"),
        ("if_w_gt_1,t_thumb", "t_ in a component with its own if_"),
        ("if_w_gt_1/fl_attachment/if_end", "fl_ inside a conditional"),
        ("if_w_gt/w_1/if_end", "Invalid expression"),
        ("$1x_10", "Invalid transformation component"),
    ] {
        let e = err(input);
        assert!(e.contains(needle), "{input}: {e}");
    }
    // Nested blocks are fine.
    assert!(Transformation::parse("if_w_gt_1/if_h_gt_1/w_5/if_end/if_end").is_ok());
}

#[test]
fn named_transformations_expand_in_place() {
    let defs = |n: &str| match n {
        "thumb" => Some("c_fill,h_100,w_100".to_owned()),
        "sepia" => Some("e_sepia".to_owned()),
        "both" => Some("t_thumb/t_sepia".to_owned()),
        "loop" => Some("t_loop".to_owned()),
        "bad" => Some("w_abc".to_owned()),
        _ => None,
    };
    let ex = |s: &str| Transformation::parse(s).unwrap().expand(&defs);
    assert_eq!(ex("t_thumb").unwrap().to_string(), "c_fill,h_100,w_100");
    assert_eq!(
        ex("t_thumb.sepia").unwrap().to_string(),
        "c_fill,h_100,w_100/e_sepia:80"
    );
    assert_eq!(
        ex("t_both/a_90").unwrap().to_string(),
        "c_fill,h_100,w_100/e_sepia:80/a_90"
    );
    assert_eq!(ex("a_90,t_sepia").unwrap().to_string(), "e_sepia:80/a_90");
    assert_eq!(
        ex("t_nope").unwrap_err().to_string(),
        "Unknown transformation nope"
    );
    assert!(matches!(ex("t_loop"), Err(TransformError::NamedTooDeep(_))));
    assert!(ex("t_bad")
        .unwrap_err()
        .to_string()
        .contains("Invalid width"));
    // Expanded and literal spellings share one cache key.
    let hints = ClientHints::default();
    let a = Resolved::new(
        &ex("t_thumb").unwrap(),
        None,
        nubo_core::Format::Jpg,
        &hints,
    );
    let b = Resolved::new(
        &ex("w_100,h_100,c_fill").unwrap(),
        None,
        nubo_core::Format::Jpg,
        &hints,
    );
    assert_eq!(a.cache_key(), b.cache_key());
}

#[test]
fn too_many_components() {
    let long = vec!["e_negate"; MAX_COMPONENTS + 1].join("/");
    assert!(matches!(
        Transformation::parse(&long),
        Err(TransformError::TooManyComponents(_))
    ));
}

#[test]
fn auto_format_follows_accept() {
    use nubo_core::Format;
    let t = Transformation::parse("f_auto,w_10").unwrap();
    let h = |a: &str| ClientHints::from_headers(Some(a), None);
    let r = |a: &str| Resolved::new(&t, None, Format::Png, &h(a));
    // Media types are case-insensitive (RFC 9110 §8.3.1), and so is `q`.
    for (accept, want) in [
        ("image/avif,image/webp,*/*", AutoFormat::Avif),
        ("image/webp,*/*", AutoFormat::Webp),
        ("image/avif;q=0,image/webp", AutoFormat::Webp),
        ("Image/WebP;Q=0.8", AutoFormat::Webp),
        ("IMAGE/AVIF; Q=0, image/webp", AutoFormat::Webp),
    ] {
        assert_eq!(r(accept).target, OutputTarget::Auto(want), "{accept}");
    }
    assert_eq!(r("*/*").target, OutputTarget::Auto(AutoFormat::Legacy));
    assert!(r("*/*").vary.accept);
    let plain = Transformation::parse("w_10").unwrap();
    let fixed = Resolved::new(&plain, Some(Format::Webp), Format::Png, &h("*/*"));
    assert_eq!(fixed.target, OutputTarget::Fixed(Format::Webp));
    assert!(!fixed.vary.accept);
    // f_ beats the extension.
    let f = Transformation::parse("f_png").unwrap();
    let r2 = Resolved::new(&f, Some(Format::Jpg), Format::Jpg, &h("*/*"));
    assert_eq!(r2.target, OutputTarget::Fixed(Format::Png));
}

#[test]
fn auto_dpr_is_rounded_up_and_varies() {
    let t = Transformation::parse("dpr_auto,w_100").unwrap();
    let r = |d: Option<&str>| {
        Resolved::new(
            &t,
            None,
            nubo_core::Format::Jpg,
            &ClientHints::from_headers(None, d),
        )
    };
    assert_eq!(r(Some("2.625")).cache_key(), "dpr_3.0,w_100|jpg");
    assert_eq!(r(None).cache_key(), "dpr_1.0,w_100|jpg");
    assert_eq!(r(Some("100")).cache_key(), "dpr_5.0,w_100|jpg");
    assert!(r(None).vary.dpr);
}

#[test]
fn known_keys() {
    for k in ["w", "l", "vc", "fl", "t", "cs"] {
        assert!(is_known_key(k), "{k}");
    }
    for k in ["zz", "W", ""] {
        assert!(!is_known_key(k), "{k}");
    }
}

#[test]
fn layers_parse_to_a_canonical_form() {
    let table = [
        ("g_south,l_logo,w_50", "g_south,l_logo,w_50"),
        (
            "l_folder:logo.png,w_0.2,fl_relative",
            "fl_relative,l_folder:logo.png,w_0.2",
        ),
        (
            "co_rgb:ff0000,l_text:Arial_40_bold:Hello%252C%20World",
            "co_rgb:ff0000,l_text:Arial_40_bold:Hello%252C%20World",
        ),
        (
            "u_bg,c_fill,w_1.0,h_1.0,fl_relative",
            "c_fill,fl_relative,h_1.0,u_bg,w_1.0",
        ),
        (
            "l_logo/e_grayscale/fl_layer_apply,g_north_east,x_10,e_multiply",
            "l_logo/e_grayscale/e_multiply,fl_layer_apply,g_north_east,x_10",
        ),
        ("l_logo,fl_tiled.no_overflow", "fl_tiled.no_overflow,l_logo"),
    ];
    for (input, want) in table {
        let t = Transformation::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(t.to_string(), want, "{input}");
        let again = Transformation::parse(&t.to_string()).unwrap();
        assert_eq!(again, t, "{input} round-trips");
    }
    let e = err("w_10/fl_layer_apply");
    assert!(e.contains("fl_layer_apply without"), "{e}");
}

#[test]
fn layer_flags_belong_to_layers() {
    for ok in [
        "l_logo,fl_cutter",
        "l_logo/fl_cutter.layer_apply",
        "l_text:Arial_20:hi,fl_text_no_trim",
        "l_text:Arial_20:hi,c_fit,fl_text_disallow_overflow,h_20,w_50",
        "l_map/e_displace,fl_layer_apply,x_10,y_-8",
        "l_logo,e_anti_removal:80",
    ] {
        let t = Transformation::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(Transformation::parse(&t.to_string()).unwrap(), t, "{ok}");
    }
    assert_eq!(
        Transformation::parse("l_logo,e_anti_removal")
            .unwrap()
            .to_string(),
        "e_anti_removal:50,l_logo"
    );
    for (bad, needle) in [
        ("w_10,fl_cutter", "fl_cutter outside a layer"),
        ("fl_text_no_trim", "fl_text_no_trim outside a text layer"),
        ("l_logo,fl_text_disallow_overflow", "outside a text layer"),
        ("w_10,e_displace", "e_displace outside a layer"),
        ("l_logo,e_anti_removal:0", "Invalid effect"),
        ("l_logo,e_anti_removal:5:5", "Invalid effect"),
    ] {
        let e = Transformation::parse(bad).unwrap_err().to_string();
        assert!(e.contains(needle), "{bad}: {e}");
    }
}

#[test]
fn text_layers_name_font_files_by_public_id() {
    let text_of = |t: &str| {
        let parsed = Transformation::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(
            Transformation::parse(&parsed.to_string()).unwrap(),
            parsed,
            "{t}"
        );
        match &parsed.components[0].layer.as_ref().unwrap().source {
            crate::LayerSource::Text {
                style: crate::layer::TextStyleRef::Inline(s),
                text,
            } => (s.font_asset(), text.clone()),
            other => panic!("{t}: {other:?}"),
        }
    };
    assert_eq!(
        text_of("l_text:fonts:Brand-Bold.ttf_40:Hi:there"),
        (Some("fonts/Brand-Bold.ttf".into()), "Hi:there".into())
    );
    assert_eq!(
        text_of("l_text:Brand.OTF_12_bold:x"),
        (Some("Brand.OTF".into()), "x".into())
    );
    // A text that mentions a font file is still text.
    assert_eq!(
        text_of("l_text:Arial_20:see%20a.ttf_1:now"),
        (None, "see a.ttf_1:now".into())
    );
    for bad in ["l_text:fonts:Br%22and.ttf_40:x", "l_text:.ttf_40:x"] {
        assert!(Transformation::parse(bad).is_err(), "{bad}");
    }
}
