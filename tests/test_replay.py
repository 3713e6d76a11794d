"""``twin replay`` writes a playable video of the city's growth: the expected number of frames (one
second a year at --fps) at the asked size, as MP4 and as GIF, the year written large on every frame; bad
options get one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from support import refused, run_twin


def test_replay_writes_an_mp4_and_a_gif(demo_database: str, tmp_path: Path) -> None:
    import imageio.v2 as imageio
    import imageio_ffmpeg
    from PIL import Image

    mp4, gif = tmp_path / "growth.mp4", tmp_path / "growth.gif"
    said = run_twin("replay", "--out", str(mp4), "--from", "2008", "--to", "2010", "--fps", "3", "--size", "320x240",
                    TWIN_DATABASE_URL=demo_database).stderr
    assert "9 frames of 320x240" in said
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(mp4))
    assert (frames, seconds) == (9, 3.0)
    first, last = (imageio.get_reader(mp4).get_data(index) for index in (0, 8))
    assert first.shape == (240, 320, 3) and abs(first.astype(int) - last.astype(int)).mean() > 1.0
    # The year in white figures over the sky in the upper right corner, a good share of the frame's height.
    white = np.flatnonzero((first[:120, 160:].min(axis=2) >= 235).any(axis=1))
    assert len(white) and (white[-1] - white[0] + 1) / 240 >= 0.1
    run_twin("replay", "--out", str(gif), "--from", "2019", "--to", "2020", "--fps", "2", "--size", "200x120",
             TWIN_DATABASE_URL=demo_database)
    with Image.open(gif) as image:
        assert (image.n_frames, image.size) == (4, (200, 120))


def test_replay_refuses_bad_options(demo_database: str, tmp_path: Path) -> None:
    odd = run_twin("replay", "--out", str(tmp_path / "x.mp4"), "--size", "321x240", check=False,
                   TWIN_DATABASE_URL=demo_database)
    assert odd.returncode == 1 and odd.stderr.startswith("twin: --size 321x240: both sides must be even")
    refused(run_twin("replay", "--out", str(tmp_path / "x.avi"), check=False, TWIN_DATABASE_URL=demo_database),
            tmp_path / "x.avi")
    backwards = run_twin("replay", "--out", str(tmp_path / "x.gif"), "--from", "2015", "--to", "2010", check=False,
                         TWIN_DATABASE_URL=demo_database)
    assert backwards.returncode == 1 and "--from 2015 is after --to 2010" in backwards.stderr
    assert not (tmp_path / "x.gif").exists()
    unknown = run_twin("replay", "--out", str(tmp_path / "x.gif"), "--colour-by", "roof", check=False,
                       TWIN_DATABASE_URL=demo_database)
    assert unknown.returncode == 1 and "--colour-by roof: no layer is coloured by it" in unknown.stderr
    assert "build_year, use" in unknown.stderr and not (tmp_path / "x.gif").exists()
