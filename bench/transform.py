"""Runs the tools of bench/transform.sh and prints the tables.

CPU time (user+sys of the whole process, from /usr/bin/time) is the primary
figure: the machine may be shared, and wall time follows the load.
"""
import os
import random
import statistics
import subprocess
import sys
import tempfile

from PIL import Image, ImageOps

SHARED = os.environ["SHARED_BENCH"]
BENCH = os.environ["BENCH_DIR"]
CORPUS = os.environ["CORPUS_DIR"]
ENGINE = os.environ["ENGINE_BENCH"]
CPU = os.environ.get("BENCH_CPU", str(os.cpu_count() - 1))
JOBS = {"thumb": (300, "jpg"), "web": (1280, "webp"), "avif": (800, "avif"), "avif-in": (300, "jpg")}
ENV = dict(os.environ, VIPS_CONCURRENCY="1", UV_THREADPOOL_SIZE="1", OMP_NUM_THREADS="1",
           RAYON_NUM_THREADS="1", NODE_PATH=os.path.join(BENCH, "node", "node_modules"))


def files():
    return sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if not f.endswith(".svg"))


def avif_inputs():
    """The corpus's upright JPEG photos as AVIF (job avif-in): libavif's
    avifenc (libaom, speed 6, quantizer 24-32, 4:2:0), made once into
    BENCH_DIR. Photos with an EXIF orientation are left out (whether an
    encoder turns EXIF into `irot` varies, and the scores compare pixels),
    and so is the CMYK one, which avifenc does not read."""
    d = os.path.join(BENCH, "avif-input")
    os.makedirs(d, exist_ok=True)
    out = []
    for f in files():
        if not f.endswith(".jpg"):
            continue
        with Image.open(f) as im:
            if im.mode == "CMYK" or im.getexif().get(0x0112, 1) != 1:
                continue
        stem = os.path.join(d, os.path.splitext(os.path.basename(f))[0])
        avif = stem + ".avif"
        if not os.path.exists(avif):
            subprocess.run(["avifenc", "-j", "1", "-s", "6", "--min", "24", "--max", "32", "-y", "420",
                            f, stem + ".part.avif"], check=True, stdout=subprocess.DEVNULL)
            os.rename(stem + ".part.avif", avif)
        out.append(avif)
    return out


def command(tool, job, out, fs):
    box, ext = JOBS[job]
    # avif-in is the thumb job on AVIF input.
    job = "thumb" if job == "avif-in" else job
    if tool == "nubo":
        return [ENGINE, "run", job, out] + fs
    if tool == "vipsthumbnail":
        opts = {"thumb": "Q=80,strip", "web": "Q=80,strip", "avif": "Q=50,strip"}[job]
        return ["vipsthumbnail", "--size", f"{box}x{box}>", "-o", f"{out}/%s.{ext}[{opts}]"] + fs
    if tool == "sharp":
        return ["node", os.path.join(SHARED, "tool_sharp.js"), job, out] + fs
    raise ValueError(tool)


def timed(cmd):
    """(wall s, cpu s, peak RSS MiB) of one process pinned to one CPU."""
    fmt = "%e %U %S %M"
    with tempfile.NamedTemporaryFile("r") as t:
        subprocess.run(["/usr/bin/time", "-f", fmt, "-o", t.name, "taskset", "-c", CPU] + cmd,
                       check=True, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, user, sys_, rss = t.read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss) / 1024


def out_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def quality(job, outdir, fs):
    """Mean SSIMULACRA2 over the JPEG photos (no alpha, so no background
    choice skews it), against Pillow's Lanczos resize of the original (for
    avif-in, of the JPEG the AVIF was made from)."""
    ext = JOBS[job][1]
    if job == "avif-in":
        fs = [os.path.join(CORPUS, os.path.splitext(os.path.basename(f))[0] + ".jpg") for f in fs]
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in fs:
            if not f.endswith(".jpg"):
                continue
            stem = os.path.splitext(os.path.basename(f))[0]
            out = os.path.join(outdir, f"{stem}.{ext}")
            if not os.path.exists(out):
                continue
            got = Image.open(out).convert("RGB")
            ref = ImageOps.exif_transpose(Image.open(f)).convert("RGB")
            ref = ref.resize(got.size, Image.LANCZOS)
            rp, op = os.path.join(tmp, "ref.png"), os.path.join(tmp, "out.png")
            ref.save(rp)
            got.save(op)
            s = subprocess.run([ENGINE, "score", rp, op], check=True, capture_output=True, text=True)
            scores.append(float(s.stdout))
    return statistics.mean(scores) if scores else float("nan"), len(scores)


def main():
    reps, jobs = 3, list(JOBS)
    args = iter(sys.argv[1:])
    for a in args:
        if a == "--reps":
            reps = int(next(args))
        elif a == "--jobs":
            jobs = next(args).split(",")
    tools = ["nubo", "vipsthumbnail", "sharp"]
    corpus = files()
    print(f"{len(corpus)} raster files from {CORPUS}, CPU {CPU}, {reps} interleaved repetitions\n")
    for job in jobs:
        fs = avif_inputs() if job == "avif-in" else corpus
        runs = {t: [] for t in tools}
        outs = {}
        for rep in range(reps):
            order = tools[:]
            random.shuffle(order)
            for t in order:
                d = tempfile.mkdtemp(prefix=f"bench-{job}-{t}-")
                runs[t].append(timed(command(t, job, d, fs)))
                outs[t] = d
        base = {b: statistics.median(r[1] for r in runs[b]) for b in ("vipsthumbnail", "sharp")}
        basew = {b: statistics.median(r[0] for r in runs[b]) for b in ("vipsthumbnail", "sharp")}
        box, ext = JOBS[job]
        source = f", {len(fs)} AVIF photos" if job == "avif-in" else ""
        print(f"### {job}: fit {box}x{box}, {ext}{source}\n")
        print("| tool | CPU s | wall s | img/s per core | CPU ÷ vips | CPU ÷ sharp | throughput × sharp | wall ÷ sharp | peak RSS MiB | output KiB | SSIMULACRA2 (JPEG photos) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for t in tools:
            cpu = statistics.median(r[1] for r in runs[t])
            wall = statistics.median(r[0] for r in runs[t])
            rss = max(r[2] for r in runs[t])
            q, n = quality(job, outs[t], fs)
            print(f"| {t} | {cpu:.2f} | {wall:.2f} | {len(fs) / cpu:.1f} | {cpu / base['vipsthumbnail']:.2f} "
                  f"| {cpu / base['sharp']:.2f} | {base['sharp'] / cpu:.2f} | {wall / basew['sharp']:.2f} | {rss:.0f} "
                  f"| {out_bytes(outs[t]) / 1024:.0f} | {q:.1f} (n={n}) |")
        print()


if __name__ == "__main__":
    main()
