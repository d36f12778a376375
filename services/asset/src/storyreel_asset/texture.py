"""Texture and light: the finishing passes that keep procedural frames from looking flat.

Images are held planar, as float32 arrays shaped (3, height, width): per-pixel weights are then
(height, width) planes that broadcast over the colour axis at full numpy speed, where an
interleaved (height, width, 3) layout would force slow size-1 broadcasting. All passes are
whole-array maths or PIL resampling (C), never per-pixel Python loops. Large soft patterns
(clouds, paper fibre, blurs) are computed small and resampled up, which costs almost nothing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

from storyreel_asset.palette import RGB, Palette

FloatImage = npt.NDArray[np.float32]  # planar RGB, (3, height, width), 0..255
Plane = npt.NDArray[np.float32]  # one value per pixel, (height, width)


def colour_vector(colour: RGB) -> FloatImage:
    """A colour shaped (3, 1, 1) so it broadcasts over a planar image."""
    return np.asarray(colour, dtype=np.float32).reshape(3, 1, 1)


def to_float(image: Image.Image) -> FloatImage:
    """PIL RGB image to a contiguous planar float array.

    Goes through PIL's C band split: a numpy transpose of interleaved pixels is ten times
    slower at frame sizes.
    """
    rgb = image.convert("RGB")
    pixels: FloatImage = np.empty((3, rgb.height, rgb.width), dtype=np.float32)
    for channel, band in enumerate(rgb.split()):
        pixels[channel] = np.asarray(band)
    return pixels


def to_plane(image: Image.Image) -> Plane:
    """PIL single-channel image to a float plane in 0..1."""
    plane: Plane = np.asarray(image.convert("L"), dtype=np.float32) * np.float32(1.0 / 255.0)
    return plane


def to_image(pixels: FloatImage) -> Image.Image:
    """Planar float array back to a PIL RGB image (rounded, clipped, merged in C)."""
    quantised = np.clip(pixels + np.float32(0.5), 0, 255).astype(np.uint8)
    return Image.merge("RGB", [Image.fromarray(quantised[channel]) for channel in range(3)])


def upsample(plane: Plane, width: int, height: int) -> Plane:
    """Resize a float plane bilinearly (PIL "F" mode): smooth fields are computed small."""
    if plane.shape == (height, width):
        return plane
    image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32))
    resized = image.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def soft_noise(rng: np.random.Generator, width: int, height: int, cells: int) -> Plane:
    """Smooth value noise in about -1..1: a coarse random grid resampled bicubically."""
    aspect = height / max(1, width)
    grid_w = max(2, cells)
    grid_h = max(2, round(cells * aspect))
    coarse = rng.uniform(-1.0, 1.0, (grid_h, grid_w)).astype(np.float32)
    image = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32)


def blur(image: Image.Image, radius: float) -> Image.Image:
    """Gaussian-like blur computed at reduced size: wide soft blurs cost a fraction.

    The image is shrunk so the remaining blur radius is about two pixels, blurred, and
    stretched back bilinearly; for the soft glows and depth of field this is used for, the
    result is indistinguishable from a full-size Gaussian at a tenth of the cost.
    """
    if radius < 0.5:
        return image
    factor = max(1, int(radius // 2))
    if factor == 1:
        return image.filter(ImageFilter.GaussianBlur(radius))
    small_size = (max(1, image.width // factor), max(1, image.height // factor))
    small = image.resize(small_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    small = small.filter(ImageFilter.GaussianBlur(radius / factor))
    return small.resize(image.size, Image.Resampling.BILINEAR)


def vignette(width: int, height: int, strength: float) -> Plane:
    """Multiplier darkening the corners; steers the eye to the centre of a vertical frame."""
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    radius2 = xs * xs + ys * ys  # 2.0 in the corners
    falloff = np.clip((radius2 - np.float32(0.35)) / np.float32(1.65), 0.0, 1.0)
    result: Plane = np.float32(1.0) - np.float32(strength) * falloff * falloff
    return result


def radial_glow(width: int, height: int, centre: tuple[float, float], radius: float) -> Plane:
    """exp(-d^2/r^2) around a point: sun halos, lamp pools and light spill."""
    inv = np.float32(1.0 / max(radius, 1e-6))
    ys = (np.arange(height, dtype=np.float32) - np.float32(centre[1])) * inv
    xs = (np.arange(width, dtype=np.float32) - np.float32(centre[0])) * inv
    # exp(-(x^2 + y^2)) = exp(-y^2) * exp(-x^2): two 1-D exps and one outer product.
    result: Plane = np.outer(np.exp(-ys * ys), np.exp(-xs * xs)).astype(np.float32)
    return result


def light_rays(
    width: int,
    height: int,
    source: tuple[float, float],
    colour: RGB,
    strength: float,
    rng: np.random.Generator,
) -> FloatImage:
    """Additive crepuscular rays fanning from `source`: a few angular sine bands, fading with
    distance, with seeded phases so each shot's rays fall a little differently.

    The ray field is smooth, so it is evaluated on a grid a third of the size and upsampled.
    """
    small_w, small_h = max(2, width // 3), max(2, height // 3)
    sx, sy = source[0] * small_w / width, source[1] * small_h / height
    ys = np.arange(small_h, dtype=np.float32)[:, None] - np.float32(sy)
    xs = np.arange(small_w, dtype=np.float32)[None, :] - np.float32(sx)
    angle = np.arctan2(ys, xs)
    freqs = rng.uniform(5.0, 17.0, 3)
    phases = rng.uniform(0.0, 2 * np.pi, 3)
    bands = np.zeros_like(angle)
    for f, p in zip(freqs, phases, strict=True):
        bands += np.sin(angle * np.float32(f) + np.float32(p))
    bands = np.clip(bands * np.float32(1.0 / 3.0), 0.0, 1.0)
    distance = np.sqrt(xs * xs + ys * ys) * np.float32(1.0 / max(small_w, small_h))
    weight = bands * bands * np.exp(distance * np.float32(-2.2)) * np.float32(strength)
    result: FloatImage = upsample(weight, width, height)[None, :, :] * colour_vector(colour)
    return result


def blinds(width: int, height: int, strength: float, rng: np.random.Generator) -> Plane:
    """Noir's venetian-blind shadow: diagonal bars of light across the frame (multiplier)."""
    slope = float(rng.uniform(0.25, 0.6))
    period = height / float(rng.uniform(9.0, 14.0))
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    phase = (ys + xs * np.float32(slope)) * np.float32(2 * np.pi / period)
    bars = np.clip((np.sin(phase) * np.float32(0.5) + np.float32(0.15)) * 3.0, 0.0, 1.0)
    s = np.float32(strength)
    result: Plane = np.float32(1.0) - s + s * bars
    return result


def grade(pixels: FloatImage, palette: Palette) -> FloatImage:
    """Apply the style's colour finish: saturation, then (ink) a paper-tinted duotone."""
    if palette.saturation != 1.0:
        luma = pixels[0] * np.float32(0.299) + pixels[1] * np.float32(0.587)
        luma += pixels[2] * np.float32(0.114)
        pixels = luma + np.float32(palette.saturation) * (pixels - luma)
    if palette.tint is not None:
        pixels = pixels * (colour_vector(palette.tint) * np.float32(1.0 / 255.0))
    return pixels


def add_grain(pixels: FloatImage, amount: float, rng: np.random.Generator) -> None:
    """Monochrome film grain, seeded, added in place at working resolution.

    Adding it before the final bilinear upscale softens each grain over about two pixels,
    like real film grain at 720p, and keeps full-resolution work down to the one resize.
    """
    if amount <= 0:
        return
    height, width = pixels.shape[1:]
    noise = rng.standard_normal((height, width), dtype=np.float32)
    pixels += noise * np.float32(amount)
