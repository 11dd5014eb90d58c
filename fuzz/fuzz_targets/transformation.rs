//! The transformation grammar: parsing never panics, the canonical form is
//! a fixed point, expressions evaluate without panicking, and geometry on
//! any parsed component stays in bounds; layers group, and text layers
//! draw or refuse within small limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nubo_transform::{layout, Size, SizeRequest, Transformation};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(t) = Transformation::parse(text) else {
        return;
    };
    let canonical = t.to_string();
    let again = Transformation::parse(&canonical).expect("canonical text parses");
    assert_eq!(again.to_string(), canonical, "canonical form is stable");
    let input = Size::new(
        1 + (data.len() as u32 % 4000),
        1 + (data.len() as u32 * 7 % 3000),
    );
    nubo_transform::layer::steps(&t.components).expect("a parsed chain groups into layers");
    for c in &t.components {
        if let Some(nubo_transform::LayerSource::Text {
            style: nubo_transform::layer::TextStyleRef::Inline(style),
            text,
        }) = c.layer.as_ref().map(|l| &l.source)
        {
            let limits = nubo_engine::EngineLimits {
                max_output_pixels: 200_000,
                ..Default::default()
            };
            let paint = nubo_engine::text::TextPaint::new(nubo_transform::Color::BLACK);
            if let Ok(r) = nubo_engine::text::render(style, text, &paint, &limits) {
                assert!(r.width as u64 * r.height as u64 <= 200_000);
            }
        }
        // Expressions evaluate to an error or a component, never a panic,
        // whatever the image's numbers.
        for probe in [0.0, 1.0, -3.5, 1e308] {
            if let Ok(r) = c.resolve(&mut |_| Ok(probe)) {
                assert!(!r.is_dynamic());
            }
            if let Some(nubo_transform::expr::Branch::If(cond)) = &c.branch {
                let _ = cond.eval(&mut Probe(probe, sample_asset()));
                let round = nubo_transform::expr::Condition::parse(&cond.to_string());
                assert_eq!(round.as_ref().ok(), Some(cond), "conditions round-trip");
            }
        }
        let l = layout(&SizeRequest::from_component(c, input, 1.0), input);
        if let Some(r) = l.crop {
            assert!(
                r.x + r.w <= input.w && r.y + r.h <= input.h,
                "crop inside the input"
            );
        }
        let out = l.output(input);
        assert!(out.w >= 1 && out.h >= 1);
    }
});

/// Every atom reads `.0`; the asset has a tag, a context key and metadata.
struct Probe(f64, nubo_transform::expr::AssetData);

impl nubo_transform::expr::Env for Probe {
    fn number(
        &mut self,
        _: &nubo_transform::expr::Atom,
    ) -> Result<f64, nubo_transform::expr::EvalError> {
        Ok(self.0)
    }
    fn text(&mut self, a: &nubo_transform::expr::Atom) -> Option<String> {
        self.1.text(a)
    }
    fn collection(&mut self, c: &nubo_transform::expr::Collection) -> Vec<String> {
        self.1.collection(c)
    }
}

fn sample_asset() -> nubo_transform::expr::AssetData {
    let mut a = nubo_transform::expr::AssetData {
        tags: vec!["sale".into()],
        ..Default::default()
    };
    a.context.insert("k".into(), "v".into());
    a.metadata.insert(
        "m".into(),
        nubo_transform::expr::MetaValue::Set(vec!["x".into()]),
    );
    a
}
