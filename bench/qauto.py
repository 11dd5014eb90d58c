"""q_auto:good against libvips at quality 80, per format, on the corpus.

Each tool is measured against its own lossless resize (so the figures are
about encoding, not about two resamplers): libvips' thumbnail to 1024 px
and Nubo's c_limit to 1024 px (first frame of animations). Alpha is kept
for WebP and AVIF by both. Every encoded file is decoded by libvips,
flattened onto white and scored with SSIMULACRA2 (the Rust `ssimulacra2`
crate, through engine_bench score) against the flattened reference.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

import pyvips

CORPUS = os.environ["CORPUS_DIR"]
ENGINE = os.environ["ENGINE_BENCH"]
FORMATS = ["jpg", "webp", "avif"]


def files():
    return sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if not f.endswith(".svg"))


def flat_png(src, dst):
    """8-bit sRGB on white (AVIF decodes as 16-bit: convert before
    flattening, so that white is white)."""
    im = pyvips.Image.new_from_file(src, access="sequential")
    if im.interpretation != "srgb":
        im = im.colourspace("srgb")
    if im.hasalpha():
        im = im.flatten(background=255)
    if im.format != "uchar":
        im = im.cast("uchar")
    im.write_to_file(dst)


def score(ref, out):
    return float(subprocess.run([ENGINE, "score", ref, out], check=True, capture_output=True,
                                text=True).stdout)


def vips_side(f, d):
    stem = os.path.splitext(os.path.basename(f))[0]
    im = pyvips.Image.thumbnail(f, 1024, height=1024, size="down")
    if im.format != "uchar":
        im = im.colourspace("srgb").cast("uchar")
    # One resize, saved four times; alpha kept where the format has it,
    # as Nubo keeps it.
    im = im.copy_memory()
    raw = os.path.join(d, stem + ".vraw.png")
    im.write_to_file(raw)
    ref = os.path.join(d, stem + ".vref.png")
    flat_png(raw, ref)
    opaque = im.flatten(background=255) if im.hasalpha() else im
    out = {}
    for fmt in FORMATS:
        path = os.path.join(d, f"{stem}.vips.{fmt}")
        if fmt == "jpg":
            opaque.jpegsave(path, Q=80, keep="none")
        elif fmt == "webp":
            im.webpsave(path, Q=80, keep="none")
        else:
            im.heifsave(path, Q=80, compression="av1", keep="none")
        out[fmt] = path
    return ref, out


def main():
    rows = {fmt: [] for fmt in FORMATS}
    with tempfile.TemporaryDirectory() as d:
        fs = files()
        nubo = {}
        for job in ["qauto-ref", "fixed-jpg", "fixed-webp", "fixed-avif"] + ["qauto-" + f for f in FORMATS]:
            res = subprocess.run([ENGINE, "run", job, d] + fs, check=True, capture_output=True,
                                 text=True, env=dict(os.environ, BENCH_VERBOSE="1"))
            for line in res.stderr.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    nubo[(r["file"], job)] = r
        for f in fs:
            stem = os.path.splitext(os.path.basename(f))[0]
            vref, vout = vips_side(f, d)
            nref = os.path.join(d, stem + ".nref.png")
            flat_png(os.path.join(d, stem + ".png"), nref)
            for fmt in FORMATS:
                vdec = os.path.join(d, f"{stem}.vips.{fmt}.png")
                flat_png(vout[fmt], vdec)
                npath = os.path.join(d, f"{stem}.{fmt}")
                ndec = os.path.join(d, f"{stem}.nubo.{fmt}.png")
                flat_png(npath, ndec)
                info = nubo[(f, "qauto-" + fmt)]
                fixed = nubo.get((f, "fixed-" + fmt))
                rows[fmt].append({
                    "file": stem,
                    "vips_bytes": os.path.getsize(vout[fmt]),
                    "nubo_bytes": os.path.getsize(npath),
                    "vips_score": score(vref, vdec),
                    "nubo_score": score(nref, ndec),
                    "quality": info.get("quality"),
                    "ms": info["ms"],
                    "fixed_ms": fixed["ms"] if fixed else None,
                })
    print("| format | images | libvips q80 bytes | Nubo q_auto:good bytes | ratio | SSIMULACRA2 libvips (mean) "
          "| SSIMULACRA2 Nubo (mean) | images Nubo ≥ libvips | Nubo quality (median) | render ms (median) "
          "| search ms (median) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for fmt in FORMATS:
        r = rows[fmt]
        vb = sum(x["vips_bytes"] for x in r)
        nb = sum(x["nubo_bytes"] for x in r)
        vs = statistics.mean(x["vips_score"] for x in r)
        ns = statistics.mean(x["nubo_score"] for x in r)
        better = sum(1 for x in r if x["nubo_score"] >= x["vips_score"])
        qs = [x["quality"] for x in r if x["quality"] is not None]
        extra = [x["ms"] - x["fixed_ms"] for x in r if x["fixed_ms"] is not None]
        search = f"{statistics.median(extra):.0f}" if extra else "-"
        print(f"| {fmt} | {len(r)} | {vb} | {nb} | {nb / vb:.2f} | {vs:.2f} | {ns:.2f} | {better}/{len(r)} "
              f"| {statistics.median(qs) if qs else '-'} | {statistics.median(x['ms'] for x in r):.0f} | {search} |")
    if "-v" in sys.argv:
        for fmt in FORMATS:
            for x in rows[fmt]:
                print(fmt, json.dumps(x))


if __name__ == "__main__":
    main()
