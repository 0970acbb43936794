"""Train the depicted-face CNN on a GPU machine (PyTorch): grouped out-of-fold figures + the shipped weights.

Runs where PyTorch and a GPU are (it also runs, slowly, on a CPU for a smoke test); it needs only
numpy, pillow and torch, and reads the pack `benchmarks/pack_depicted_faces.py` writes (aligned
64 px crops of UTKFace, NK poster and MetFaces faces with labels, domains and grouped fold ids).

For every setting in SETTINGS it trains one network per fold on the other folds and predicts the
held-out fold (with the mirrored face averaged in), then trains the chosen setting on every face
for the shipped model. It also trains the chosen setting without the posters and without the
paintings (the base a researcher's own labelled faces of that kind are added to: the learning
curve's starting point). Out: `results.npz` (`oof/<setting>/probabilities|embeddings`: every
face's held-out prediction; `without/<domain>/…`: that domain's faces predicted by the network
that never saw one; `parity/…`: the final network on the first 64 faces, to check the Keras
rebuild), `weights.npz` (the final network, Keras layer names and layouts:
classify.models.cnnbackbone.load_exported_weights), `summary.json` and `log.txt`.

The network mirrors `classify.models.cnnbackbone.build_cnn` layer for layer (3×3 "same" convolutions of
stride 1 without bias, batch norm with eps 1e-3, ReLU, 2×2 max-pool between stages, global
average, a ReLU embedding, dropout, softmax), so its weights load into Keras unchanged in meaning.
Drawing-style augmentation runs on the GPU over whole batches (classify.models.augment is the CPU
version of the same ideas, per image): affine jitter and flips, then with `style` probability one
of posterise, grey/tinted print, halftone dots or a flat-colour "cartoon" with dark contours,
then colour jitter, blur, noise and a low-resolution round trip, each at its own rate.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

DOMAINS = ("photos", "posters", "paintings")
BN_EPS = 1e-3


@dataclass(frozen=True)
class Setting:
    name: str
    widths: tuple[int, ...] = (32, 64, 128, 256)
    repeats: tuple[int, ...] = (1, 2, 2, 2)
    embedding: int = 128
    dropout: float = 0.3
    epochs: int = 40
    batch_size: int = 256
    learning_rate: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.05
    style: float = 0.6  # share of training views given a drawing style
    domain_share: tuple[float, float, float] = (0.5, 0.2, 0.3)  # photos, posters, paintings drawn per epoch
    seed: int = 0


# Every setting tried (run 1: the first four at 40 epochs; run 2: the longer ones).
SETTINGS = (
    Setting("c32-style0.6"),
    Setting("c48-style0.6", widths=(48, 96, 192, 384)),
    Setting("c32-style0", style=0.0),
    Setting("c32-style0.6-even", domain_share=(1 / 3, 1 / 3, 1 / 3)),
    Setting("c32-style0-e120", style=0.0, epochs=120),
    Setting("c32-style0.2-e120", style=0.2, epochs=120),
)


class Net(nn.Module):
    def __init__(self, setting: Setting) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        self.names: list[str] = []
        for stage, (width, repeats) in enumerate(zip(setting.widths, setting.repeats)):
            for repeat in range(repeats):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width, eps=BN_EPS),
                           nn.ReLU(inplace=True)]
                self.names.append(f"{stage}_{repeat}")
                channels = width
            if stage < len(setting.widths) - 1:
                layers.append(nn.MaxPool2d(2))
        self.body = nn.Sequential(*layers)
        self.embedding = nn.Linear(channels, setting.embedding)
        self.dropout = nn.Dropout(setting.dropout)
        self.softmax = nn.Linear(setting.embedding, 2)

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """pixels: (n, 3, h, w) floats 0–255."""
        x = self.body(pixels / 127.5 - 1.0)
        return F.relu(self.embedding(x.mean(dim=(2, 3))))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.softmax(self.dropout(self.embed(pixels)))

    def keras_weights(self) -> dict[str, np.ndarray]:
        """Weights under classify.models.cnnbackbone's layer names, in Keras layouts."""
        out: dict[str, np.ndarray] = {}
        convs = [m for m in self.body if isinstance(m, nn.Conv2d)]
        norms = [m for m in self.body if isinstance(m, nn.BatchNorm2d)]
        for name, conv, norm in zip(self.names, convs, norms):
            out[f"conv{name}/kernel"] = conv.weight.detach().float().cpu().numpy().transpose(2, 3, 1, 0)
            out[f"bn{name}/gamma"] = norm.weight.detach().float().cpu().numpy()
            out[f"bn{name}/beta"] = norm.bias.detach().float().cpu().numpy()
            out[f"bn{name}/moving_mean"] = norm.running_mean.detach().float().cpu().numpy()
            out[f"bn{name}/moving_variance"] = norm.running_var.detach().float().cpu().numpy()
        for layer in ("embedding", "softmax"):
            linear = getattr(self, layer)
            out[f"{layer}/kernel"] = linear.weight.detach().float().cpu().numpy().T
            out[f"{layer}/bias"] = linear.bias.detach().float().cpu().numpy()
        return out


# ---- augmentation on whole batches (x: (n, 3, h, w) floats 0–255) ----

def _chance(n: int, p: float, device) -> torch.Tensor:
    return torch.rand(n, device=device) < p


def _grey(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def _gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Per-image Gaussian blur (sigma per image, 5×5 separable kernel)."""
    radius = 2
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(offsets[None] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # (n, 5)
    n, c, h, w = x.shape
    flat = x.reshape(1, n * c, h, w)
    k = kernel.repeat_interleave(c, dim=0)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="replicate"), k[:, None, None, :], groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="replicate"), k[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, h, w)


def affine(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Rotation ±10°, scale ±10 %, shift ±6 %, and a mirror half the time."""
    n = x.shape[0]
    u = lambda: torch.rand(n, device=x.device, generator=generator)  # noqa: E731
    angle = (u() * 2 - 1) * math.radians(10)
    scale = 1 + (u() * 2 - 1) * 0.10
    mirror = torch.where(u() < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 0, 1] = cos * mirror, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * mirror, cos
    theta[:, :, 2] = (torch.rand(n, 2, device=x.device, generator=generator) * 2 - 1) * 0.12
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def posterise(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    levels = torch.randint(2, 6, (x.shape[0], 1, 1, 1), device=x.device, generator=g).float()
    step = 256 / levels
    return (torch.floor(x / step) * step + step / 2).clamp(0, 255)


def print_one_colour(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    tint = 0.6 + 0.4 * torch.rand(x.shape[0], 3, 1, 1, device=x.device, generator=g)
    plain = torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=g) < 0.5
    return (_grey(x) * torch.where(plain, torch.ones_like(tint), tint)).clamp(0, 255)


def halftone(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    cell = torch.randint(2, 4, (n, 1, 1, 1), device=x.device, generator=g).float()
    yy, xx = torch.meshgrid(torch.arange(h, device=x.device).float(), torch.arange(w, device=x.device).float(),
                            indexing="ij")
    dy = (yy[None, None] % cell) / cell - 0.5
    dx = (xx[None, None] % cell) / cell - 0.5
    darkness = 1 - _grey(x) / 255
    ink = torch.sqrt(dx * dx + dy * dy) < torch.sqrt(darkness / math.pi)
    paper = 220 + 35 * torch.rand(n, 3, 1, 1, device=x.device, generator=g)
    colour = 90 * torch.rand(n, 3, 1, 1, device=x.device, generator=g)
    out = torch.where(ink, colour, paper)
    mix = 0.3 + 0.4 * torch.rand(n, 1, 1, 1, device=x.device, generator=g)
    return (mix * out + (1 - mix) * x).clamp(0, 255)


def cartoon(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Smoothed flat colour areas with dark contours: paint, silkscreen, comic ink."""
    smooth = _gaussian_blur(x, 1.0 + torch.rand(x.shape[0], device=x.device, generator=g))
    flat = posterise(smooth, g)
    grey = _grey(smooth)
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=x.device)
    gx = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), sobel[None, None])
    gy = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), sobel.T[None, None])
    magnitude = torch.sqrt(gx * gx + gy * gy)
    level = torch.quantile(magnitude.flatten(1), 0.85, dim=1)[:, None, None, None]
    edges = (magnitude > level).float()
    return (flat * (1 - edges) + 20 * edges).clamp(0, 255)


STYLES = (posterise, print_one_colour, halftone, cartoon)


def augment(x: torch.Tensor, style: float, g: torch.Generator) -> torch.Tensor:
    n, device = x.shape[0], x.device
    x = affine(x, g)
    if style > 0:
        chosen = torch.randint(0, len(STYLES), (n,), device=device, generator=g)
        styled = torch.rand(n, device=device, generator=g) < style
        for k, transform in enumerate(STYLES):
            take = styled & (chosen == k)
            if take.any():
                x[take] = transform(x[take], g)
    # colour jitter: brightness, contrast, saturation
    n1 = lambda: torch.rand(n, 1, 1, 1, device=device, generator=g)  # noqa: E731
    grey = _grey(x)
    x = grey + (x - grey) * (0.5 + n1())  # saturation 0.5–1.5
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + (x - mean) * (0.7 + 0.6 * n1()) + (n1() - 0.5) * 60
    blur = torch.rand(n, device=device, generator=g) < 0.2
    if blur.any():
        x[blur] = _gaussian_blur(x[blur], 0.5 + torch.rand(int(blur.sum()), device=device, generator=g))
    low = torch.rand(n, device=device, generator=g) < 0.2
    if low.any():
        size = x.shape[-1]
        small = F.interpolate(x[low], scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)
        x[low] = F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)
    noise = torch.rand(n, 1, 1, 1, device=device, generator=g) < 0.2
    x = x + noise * torch.randn(x.shape, device=device, generator=g) * 8
    return x.clamp(0, 255)


# ---- training ----

def epoch_weights(y: np.ndarray, domain: np.ndarray, share: tuple[float, float, float]) -> np.ndarray:
    """Draw probabilities: each domain its share of an epoch, each label half of its domain's."""
    weights = np.zeros(len(y))
    for d, s in enumerate(share):
        in_domain = domain == d
        for label in (0, 1):
            cell = in_domain & (y == label)
            if cell.any():
                weights[cell] = s / 2 / cell.sum()
    return weights / weights.sum()


def train(pixels: torch.Tensor, y: np.ndarray, domain: np.ndarray, setting: Setting, device, log) -> Net:
    torch.manual_seed(setting.seed)
    g = torch.Generator(device=device)
    g.manual_seed(setting.seed)
    net = Net(setting).to(device).to(memory_format=torch.channels_last)
    per_epoch = len(y)
    steps = setting.epochs * math.ceil(per_epoch / setting.batch_size)
    decay, no_decay = [], []
    for name, parameter in net.named_parameters():
        (no_decay if parameter.ndim == 1 else decay).append(parameter)
    optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": setting.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=setting.learning_rate)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, setting.learning_rate, total_steps=steps, pct_start=0.1)
    weights = torch.tensor(epoch_weights(y, domain, setting.domain_share), device=device)
    targets = torch.tensor(y, device=device)
    autocast = device.type == "cuda"
    net.train()
    for epoch in range(setting.epochs):
        drawn = torch.multinomial(weights, per_epoch, replacement=True, generator=g)
        for start in range(0, per_epoch, setting.batch_size):
            index = drawn[start:start + setting.batch_size]
            x = augment(pixels[index].float(), setting.style, g).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                loss = F.cross_entropy(net(x), targets[index], label_smoothing=setting.label_smoothing)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
        if epoch % 10 == 9 or epoch == setting.epochs - 1:
            log(f"    epoch {epoch + 1}/{setting.epochs} loss {float(loss.detach()):.3f}")
    return net.eval()


@torch.no_grad()
def predict(net: Net, pixels: torch.Tensor, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, embeddings), each averaged over the face and its mirror image."""
    probabilities, embeddings = [], []
    for start in range(0, len(pixels), batch):
        x = pixels[start:start + batch].float()
        p, e = 0, 0
        for view in (x, torch.flip(x, dims=[3])):
            emb = net.embed(view)
            p = p + torch.softmax(net.softmax(emb), dim=1) / 2
            e = e + emb / 2
        probabilities.append(p.cpu().numpy())
        embeddings.append(e.cpu().numpy())
    return np.concatenate(probabilities), np.concatenate(embeddings)


def accuracies(probabilities: np.ndarray, y: np.ndarray, domain: np.ndarray) -> dict[str, float]:
    right = probabilities.argmax(axis=1) == y
    return {name: round(float(right[domain == d].mean()), 4) for d, name in enumerate(DOMAINS) if (domain == d).any()}


def load_pack(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as stored:
        pack = {key: stored[key] for key in stored.files}
    pack["pixels"] = np.stack([np.asarray(Image.open(io.BytesIO(bytes(b))).convert("RGB")) for b in pack["jpegs"]])
    return pack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pack", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--settings", default=",".join(s.name for s in SETTINGS), help="comma-separated names")
    parser.add_argument("--epochs", type=int, default=0, help="override every setting's epochs (smoke tests)")
    parser.add_argument("--limit", type=int, default=0, help="use only this many faces (smoke tests)")
    parser.add_argument("--budget", type=float, default=480, help="seconds; settings that would not fit are skipped")
    arguments = parser.parse_args()
    started = time.time()
    arguments.out.mkdir(parents=True, exist_ok=True)
    log_file = (arguments.out / "log.txt").open("w")

    def log(message: str) -> None:
        line = f"[{time.time() - started:6.1f}s] {message}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    pack = load_pack(arguments.pack)
    if arguments.limit:
        keep = np.random.default_rng(0).permutation(len(pack["y"]))[:arguments.limit]
        pack = {k: v[np.sort(keep)] if len(v) == len(pack["y"]) else v for k, v in pack.items()}
    y, domain, fold = pack["y"].astype(np.int64), pack["domain"].astype(np.int64), pack["fold"].astype(np.int64)
    pixels = torch.tensor(pack["pixels"]).permute(0, 3, 1, 2).contiguous().to(device)
    log(f"{len(y)} faces on {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}); "
        f"per domain {np.bincount(domain).tolist()}")
    chosen = [s for s in SETTINGS if s.name in arguments.settings.split(",")]
    if arguments.epochs:
        chosen = [replace(s, epochs=arguments.epochs) for s in chosen]
    summary: dict = {"settings": {}, "device": str(device)}
    results: dict[str, np.ndarray] = {}
    per_model: float | None = None
    for setting in chosen:
        # this setting's five folds, then three trainings (final, without posters, without paintings)
        if per_model and time.time() - started + 8 * per_model * setting_cost(setting) > arguments.budget:
            log(f"skipping {setting.name}: would not fit the budget")
            continue
        oof_p = np.zeros((len(y), 2), np.float32)
        oof_e = np.zeros((len(y), setting.embedding), np.float32)
        t0 = time.time()
        for k in np.unique(fold):
            held = fold == k
            log(f"{setting.name} fold {k}: train {int((~held).sum())}, held out {int(held.sum())}")
            net = train(pixels[torch.tensor(~held, device=device)], y[~held], domain[~held], setting, device, log)
            oof_p[held], oof_e[held] = predict(net, pixels[torch.tensor(held, device=device)])
        seconds = (time.time() - t0) / len(np.unique(fold))
        per_model = per_model or seconds / setting_cost(setting)
        result = accuracies(oof_p, y, domain)
        result["mean"] = round(float(np.mean(list(result.values()))), 4)
        log(f"{setting.name} out-of-fold {result} ({seconds:.1f} s per fold)")
        summary["settings"][setting.name] = {"setting": asdict(setting), "out_of_fold": result,
                                             "seconds_per_fold": round(seconds, 1)}
        results[f"oof/{setting.name}/probabilities"] = oof_p
        results[f"oof/{setting.name}/embeddings"] = oof_e.astype(np.float16)
        save(arguments.out, results, summary)  # a run cut short keeps what it finished
    best = max(summary["settings"], key=lambda name: summary["settings"][name]["out_of_fold"]["mean"])
    setting = next(s for s in chosen if s.name == best)
    for d in (1, 2):  # a domain never seen: the base a researcher's own posters or paintings are added to
        unseen = domain == d
        log(f"{best} without {DOMAINS[d]}: train {int((~unseen).sum())}, predict {int(unseen.sum())}")
        share = tuple(0.0 if k == d else s for k, s in enumerate(setting.domain_share))
        net = train(pixels[torch.tensor(~unseen, device=device)], y[~unseen], domain[~unseen],
                    replace(setting, domain_share=share), device, log)
        p, e = predict(net, pixels[torch.tensor(unseen, device=device)])
        results[f"without/{DOMAINS[d]}/probabilities"] = p
        results[f"without/{DOMAINS[d]}/embeddings"] = e.astype(np.float16)
        summary[f"without_{DOMAINS[d]}"] = accuracies(p, y[unseen], domain[unseen])
        log(f"  accuracy on {DOMAINS[d]} never seen: {summary[f'without_{DOMAINS[d]}']}")
        save(arguments.out, results, summary)
    log(f"final: {best} on all {len(y)} faces")
    net = train(pixels, y, domain, setting, device, log)
    net = net.float()
    np.savez(arguments.out / "weights.npz", **net.keras_weights())
    probe = pixels[:64]
    p, e = predict(net, probe)
    results.update({"parity/probabilities": p, "parity/embeddings": e})
    summary.update(chosen=best, final_setting=asdict(setting), faces=int(len(y)), seconds=round(time.time() - started, 1))
    save(arguments.out, results, summary)
    log("done")


def save(out: Path, results: dict[str, np.ndarray], summary: dict) -> None:
    np.savez_compressed(out / "results.npz", **results)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))


def setting_cost(setting: Setting) -> float:
    """Relative training cost (multiply-adds × epochs), to skip settings that would overrun the budget."""
    return sum(w * w * r for w, r in zip(setting.widths, setting.repeats)) * setting.epochs / 1e6


if __name__ == "__main__":
    main()
