use super::*;

fn cmd(pairs: &[(&str, &str)]) -> UploadCommand {
    UploadCommand::parse(&Params::from_pairs(pairs.iter().copied()), false).unwrap()
}

fn image() -> Identified {
    Identified {
        resource_type: ResourceType::Image,
        format: Some(Format::Png),
        width: None,
        height: None,
        pages: None,
        meta: Map::new(),
    }
}

fn raw() -> Identified {
    Identified::raw()
}

#[test]
fn public_id_resolution_table() {
    let is_random = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    // explicit id, with folder
    let id = resolve_public_id(
        &cmd(&[("public_id", "x"), ("folder", "/a//b/")]),
        &image(),
        None,
    )
    .unwrap();
    assert_eq!(id.as_str(), "a/b/x");
    // use_filename without unique suffix, from a full Python path
    let c = cmd(&[("use_filename", "1"), ("unique_filename", "0")]);
    assert_eq!(
        resolve_public_id(&c, &image(), Some("/home/u/pics/my pic.png"))
            .unwrap()
            .as_str(),
        "my_pic"
    );
    // use_filename with the default unique suffix
    let c = cmd(&[("use_filename", "true")]);
    let id = resolve_public_id(&c, &image(), Some("logo.png")).unwrap();
    let (stem, suffix) = id.as_str().split_once('_').unwrap();
    assert_eq!(stem, "logo");
    assert!(is_random(suffix, 6), "{id}");
    // random id
    let id = resolve_public_id(&cmd(&[]), &image(), Some("x.png")).unwrap();
    assert!(is_random(id.as_str(), 20), "{id}");
    // raw: generated ids carry the extension, given ids are kept as given
    let id = resolve_public_id(&cmd(&[]), &raw(), Some("report.pdf")).unwrap();
    assert!(
        id.as_str().ends_with(".pdf") && is_random(&id.as_str()[..20], 20),
        "{id}"
    );
    let c = cmd(&[
        ("use_filename", "1"),
        ("unique_filename", "0"),
        ("folder", "docs"),
    ]);
    assert_eq!(
        resolve_public_id(&c, &raw(), Some("C:\\tmp\\notes.txt"))
            .unwrap()
            .as_str(),
        "docs/notes.txt"
    );
    assert_eq!(
        resolve_public_id(
            &cmd(&[("public_id", "docs/hello.txt")]),
            &raw(),
            Some("a.bin")
        )
        .unwrap()
        .as_str(),
        "docs/hello.txt"
    );
    // invalid ids are refused
    assert!(resolve_public_id(&cmd(&[("public_id", "a?b")]), &image(), None).is_err());
}

#[test]
fn original_filename_rules() {
    assert_eq!(original_filename(&cmd(&[]), Some("/tmp/tiny.png")), "tiny");
    assert_eq!(original_filename(&cmd(&[]), None), "file");
    assert_eq!(
        original_filename(&cmd(&[("filename_override", "over.jpg")]), Some("a.png")),
        "over"
    );
    assert_eq!(original_filename(&cmd(&[]), Some(".hidden")), ".hidden");
}

#[test]
fn incoming_transformations_are_parsed_and_checked() {
    let ok = UploadCommand::parse(
        &Params::from_pairs([("transformation", "w_10,c_fit")]),
        false,
    )
    .unwrap();
    assert_eq!(ok.transformation.to_string(), "c_fit,w_10");
    let err = UploadCommand::parse(&Params::from_pairs([("transformation", "w_abc")]), false)
        .unwrap_err();
    assert_eq!(err.to_string(), "Invalid width in transformation: abc");
}
