use super::*;
use proptest::strategy::Strategy;

fn term(field: Field, test: Test) -> Expr {
    Expr::Term(Term { field, test })
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

#[test]
fn terms_parse_into_typed_tests() {
    let table: Vec<(&str, Expr)> = vec![
        (
            "resource_type:image",
            term(Field::ResourceType, Test::Eq(text("image"))),
        ),
        ("tags=kitten", term(Field::Tags, Test::Eq(text("kitten")))),
        ("tag:kit*", term(Field::Tags, Test::Prefix("kit".into()))),
        (
            "folder:products/*",
            term(Field::Folder, Test::Prefix("products/".into())),
        ),
        (
            "public_id:\"a b*\"",
            term(Field::PublicId, Test::Eq(text("a b*"))),
        ),
        (
            "bytes>1mb",
            term(Field::Bytes, Test::Cmp(Cmp::Gt, Value::Integer(1 << 20))),
        ),
        (
            "bytes<=1.5kb",
            term(Field::Bytes, Test::Cmp(Cmp::Le, Value::Integer(1536))),
        ),
        (
            "width:[100 TO 500]",
            term(
                Field::Width,
                Test::Range(Value::Integer(100), Value::Integer(500)),
            ),
        ),
        (
            "aspect_ratio>=\"16:9\"",
            term(
                Field::AspectRatio,
                Test::Cmp(Cmp::Ge, Value::Real(16.0 / 9.0)),
            ),
        ),
        (
            "bytes:>=100",
            term(Field::Bytes, Test::Cmp(Cmp::Ge, Value::Integer(100))),
        ),
        (
            "created_at>2024-01-01T10:00:00Z",
            term(
                Field::CreatedAt,
                Test::Cmp(Cmp::Gt, Value::At(1_704_103_200)),
            ),
        ),
        (
            "height=30",
            term(Field::Height, Test::Eq(Value::Integer(30))),
        ),
        (
            "created_at>2w",
            term(
                Field::CreatedAt,
                Test::Cmp(Cmp::Gt, Value::Ago(14 * 86_400)),
            ),
        ),
        (
            "uploaded_at<2024-01-02",
            term(
                Field::UploadedAt,
                Test::Cmp(Cmp::Lt, Value::At(1_704_153_600)),
            ),
        ),
        (
            "created_at:[2024-01-01T00:00:00Z TO 1d]",
            term(
                Field::CreatedAt,
                Test::Range(Value::At(1_704_067_200), Value::Ago(86_400)),
            ),
        ),
        (
            "context.alt=\"a cat\"",
            term(Field::Context("alt".into()), Test::Eq(text("a cat"))),
        ),
        (
            "metadata.sku:abc",
            term(Field::Metadata("sku".into()), Test::Eq(text("abc"))),
        ),
        ("kitten", term(Field::Any, Test::Eq(text("kitten")))),
        (
            "colour:red",
            term(Field::Unknown("colour".into()), Test::Eq(text("red"))),
        ),
        (
            "public_id:a\\:b",
            term(Field::PublicId, Test::Eq(text("a:b"))),
        ),
    ];
    for (input, want) in table {
        assert_eq!(parse(input).unwrap(), Some(want), "{input}");
    }
}

#[test]
fn boolean_structure_and_precedence() {
    let a = || term(Field::Format, Test::Eq(text("jpg")));
    let b = || term(Field::Tags, Test::Eq(text("x")));
    let c = || term(Field::Type, Test::Eq(text("upload")));
    assert_eq!(
        parse("format:jpg AND tags:x OR type:upload").unwrap(),
        Some(Expr::Or(vec![Expr::And(vec![a(), b()]), c()]))
    );
    assert_eq!(
        parse("format:jpg (tags:x OR type:upload)").unwrap(),
        Some(Expr::And(vec![a(), Expr::Or(vec![b(), c()])]))
    );
    assert_eq!(
        parse("NOT format:jpg -tags:x").unwrap(),
        Some(Expr::And(vec![
            Expr::Not(Box::new(a())),
            Expr::Not(Box::new(b()))
        ]))
    );
    assert_eq!(parse("  ").unwrap(), None);
}

#[test]
fn bad_expressions_are_errors_that_say_why() {
    for (input, why) in [
        ("(format:jpg", "without its ')'"),
        ("format:jpg)", "unexpected ')'"),
        ("bytes>lots", "not a number"),
        ("created_at>yesterday", "not a date"),
        ("width:[1 500]", "TO"),
        ("public_id>a", "cannot be compared"),
        ("format:", "expected a value"),
        ("\"open", "unterminated"),
        ("AND", "term was expected"),
        ("format:jpg OR", "ends where a term"),
    ] {
        let err = parse(input).unwrap_err().to_string();
        assert!(err.contains(why), "{input}: {err}");
    }
    let deep = "(".repeat(40) + "x" + &")".repeat(40);
    assert!(parse(&deep).unwrap_err().0.contains("nested"));
    let long = "x ".repeat(3000);
    assert!(parse(&long).is_err());
}

#[test]
fn ages_resolve_against_now() {
    assert_eq!(Value::Ago(60).resolve(1000), Value::At(940));
    assert_eq!(Value::Integer(5).resolve(1000), Value::Integer(5));
}

proptest::proptest! {
    /// Inputs built from the grammar's own pieces: parsing never panics,
    /// is deterministic, and respects the limits.
    #[test]
    fn any_mix_of_tokens_parses_or_is_refused(
        parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(vec![
                    "AND", "OR", "NOT", "(", ")", "[", "]", "TO", ":", "=", "<", ">=", "\"",
                    "\\", "*", "-", " ", "tags", "bytes", "created_at", "context.k",
                    "1mb", "2d", "16:9", "2024-01-01", "x", "-x", "é",
                ]).prop_map(str::to_owned),
                "[a-z0-9:*<>=() \"\\-]{0,6}",
            ],
            0..40,
        )
    ) {
        let input = parts.concat();
        let first = parse(&input);
        proptest::prop_assert_eq!(&first, &parse(&input));
        if let Ok(Some(e)) = first {
            proptest::prop_assert!(count_terms(&e) <= 200);
        }
    }
}

fn count_terms(e: &Expr) -> usize {
    match e {
        Expr::And(items) | Expr::Or(items) => items.iter().map(count_terms).sum(),
        Expr::Not(inner) => count_terms(inner),
        Expr::Term(_) => 1,
    }
}
