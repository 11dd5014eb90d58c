use std::path::PathBuf;

use nubo_core::Format;

use super::*;

const LIMITS: ProbeLimits = ProbeLimits {
    max_pixels: 100_000_000,
    max_frames: 1000,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn image(name: &str) -> ImageInfo {
    match probe_file(&fixture(name), LIMITS).unwrap() {
        Probe::Image(info) => info,
        other => panic!("{name}: expected an image, got {other:?}"),
    }
}

fn video(name: &str) -> VideoInfo {
    match probe_file(&fixture(name), LIMITS).unwrap() {
        Probe::Video(info) => info,
        other => panic!("{name}: expected a video, got {other:?}"),
    }
}

#[test]
fn images_table() {
    // (fixture, format, width, height, frames)
    let table = [
        ("photo.jpg", Format::Jpg, 40, 30, 1),
        ("rotated.jpg", Format::Jpg, 30, 40, 1),
        ("alpha.png", Format::Png, 16, 12, 1),
        ("anim.gif", Format::Gif, 20, 10, 3),
        ("anim.webp", Format::Webp, 20, 10, 3),
        ("still.webp", Format::Webp, 20, 10, 1),
        ("image.bmp", Format::Bmp, 24, 18, 1),
        ("icon.ico", Format::Ico, 32, 32, 1),
        ("pages.tiff", Format::Tiff, 10, 10, 2),
        ("image.avif", Format::Avif, 20, 16, 1),
        // Stored 300x200, shown turned by `irot`.
        ("avif/photo-irot.avif", Format::Avif, 200, 300, 1),
        // A 3x2 grid of 100x100 tiles: the grid item's size.
        ("avif/photo-grid.avif", Format::Avif, 300, 200, 1),
        ("drawing.svg", Format::Svg, 120, 60, 1),
    ];
    for (name, format, w, h, frames) in table {
        let info = image(name);
        assert_eq!(
            (info.format, info.width, info.height, info.frames),
            (format, w, h, frames),
            "{name}"
        );
    }
    assert_eq!(image("rotated.jpg").orientation, 6);
    assert_eq!(image("photo.jpg").orientation, 1);
    assert_eq!(image("avif/photo-irot.avif").orientation, 6);
}

#[test]
fn videos_table() {
    for (name, format, video_codec) in [
        ("clip.mp4", Format::Mp4, "avc1"),
        ("clip.mov", Format::Mov, "avc1"),
        ("clip.webm", Format::Webm, "vp9"),
    ] {
        let v = video(name);
        assert_eq!(v.format, Some(format), "{name}");
        assert_eq!((v.width, v.height), (Some(64), Some(48)), "{name}");
        let d = v.duration.expect("duration");
        assert!((1.9..2.2).contains(&d), "{name}: duration {d}");
        assert_eq!(v.video_codec.as_deref(), Some(video_codec), "{name}");
        assert!(v.audio_codec.is_some(), "{name}: audio track");
    }
}

#[test]
fn text_is_unknown() {
    assert_eq!(
        probe_file(&fixture("notes.txt"), LIMITS).unwrap(),
        Probe::Unknown
    );
}

#[test]
fn pixel_and_frame_limits_come_from_the_header() {
    let small = ProbeLimits {
        max_pixels: 40 * 30 - 1,
        max_frames: 1000,
    };
    assert!(matches!(
        probe_file(&fixture("photo.jpg"), small),
        Err(ProbeError::TooManyPixels { pixels: 1200, .. })
    ));
    let few = ProbeLimits {
        max_pixels: 1_000_000,
        max_frames: 2,
    };
    assert!(matches!(
        probe_file(&fixture("anim.gif"), few),
        Err(ProbeError::TooManyFrames { frames: 3, .. })
    ));
}

#[test]
fn truncated_and_garbage_headers_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "photo.jpg",
        "alpha.png",
        "anim.gif",
        "anim.webp",
        "pages.tiff",
        "clip.mp4",
        "clip.webm",
        "image.avif",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        for cut in [4, 12, 20, 33, 64, bytes.len() / 2] {
            let path = dir.path().join(format!("cut-{cut}-{name}"));
            std::fs::write(&path, &bytes[..cut.min(bytes.len())]).unwrap();
            // Any answer is fine as long as it is an answer.
            let _ = probe_file(&path, LIMITS);
        }
    }
    let path = dir.path().join("jpeg-magic-only");
    std::fs::write(&path, [0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap();
    assert!(
        probe_file(&path, LIMITS).is_err(),
        "a JPEG signature without a frame header is invalid"
    );
}

#[test]
fn a_gigantic_declared_size_is_refused_without_allocation() {
    // PNG header declaring 100000 x 100000.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.png");
    std::fs::write(&path, png).unwrap();
    assert!(matches!(
        probe_file(&path, LIMITS),
        Err(ProbeError::TooManyPixels { .. })
    ));
}

#[test]
fn fuzzer_found_inputs_stay_fixed() {
    // An ISO BMFF box with a 64-bit size near u64::MAX once overflowed `pos + size`.
    let mut bmff =
        b"\0\0\0\x20ftypah\0\x14ispe\0\0\0\0\0\0\0\x17ipma\0\0\0\0\0\0\0\x01\0\x01".to_vec();
    bmff.extend_from_slice(&[0xff; 40]);
    let _ = probe_reader(&mut std::io::Cursor::new(&bmff), LIMITS);
    let mut large = b"\0\0\0\x10ftypisom\0\0\0\0\0\0\0\x01moov".to_vec();
    large.extend_from_slice(&u64::MAX.to_be_bytes());
    assert!(probe_reader(&mut std::io::Cursor::new(&large), LIMITS).is_err());
}
