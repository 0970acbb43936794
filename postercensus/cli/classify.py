"""`postercensus classify train|evaluate|predict|label|labels`: perceived-gender (or any label set) classifiers.

TensorFlow is imported only inside these commands: it takes seconds to load, and the other
stages never need it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress

from postercensus.catalog.stage import Progress as Advance
from postercensus.classify.models.progress import Step, ignore
from postercensus.cli.commandapp import CommandApp
from postercensus.catalog.home import Home
from postercensus.cli.context import CommandError, existing_home, writable_file, writable_folder
from postercensus.cli.terminal import face_executor, print_errors, progress_bar

classify_app = CommandApp(
    help="Label faces with a perceived gender (or any label set): train a head on labelled faces, "
    "evaluate it, predict over the catalogue's faces, and label faces by hand in a local page. "
    "Perceived gender is an annotation of a depiction, not a person's identity.",
    no_args_is_help=True,
)

Weights = Annotated[Optional[Path], typer.Option(
    "--weights", help="rcmalli's VGGFace notop .h5 (only for the vggface backbones); else looked up in "
    "$POSTERCENSUS_WEIGHTS, <home>/weights and ~/.keras/models/vggface.", show_default=False)]
Workers = Annotated[Optional[int], typer.Option("--workers", min=1, help="Processes for finding faces in image files (default: all cores).", show_default=False)]


def _weights_dirs(context: Home) -> list[Path]:
    return [context.layout.weights]


def _steps(console: Console, progress: Progress) -> Step:
    """A classify `Step` for the terminal: each step's message printed (it stays in logs), and a
    bar of its unit for the steps that count something."""

    def step(message: str, unit: str, total: int | None) -> Advance:
        console.print(message)
        if total is None:
            return ignore
        task = progress.add_task(unit, total=total)
        return lambda n: progress.advance(task, n)

    return step


def _folder_set(folder: Path, workers: int | None, console: Console, errors: list[str]):
    from postercensus.classify.train.folderdata import load_labelled_folder
    from postercensus.classify.train.labelled import list_labelled_files

    files = list_labelled_files(folder)
    with face_executor(workers, None) as executor, progress_bar(console) as progress:
        task = progress.add_task("faces", total=len(files))
        return load_labelled_folder(folder, files, executor, lambda n: progress.advance(task, n), errors)


@classify_app.command()
def train(
    ctx: typer.Context,
    folder: Annotated[Optional[Path], typer.Argument(help="FOLDER/<label>/*.jpg: face crops or whole images (each is known to hold a face: the detector's best box at any score when none passes its cut; the whole image only when none is found at all).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", help="Model folder to write.", show_default=False)] = ...,
    from_catalog: Annotated[bool, typer.Option("--from-catalog", help="Train on the faces labelled in the catalogue (`classify label`) instead of a folder.")] = False,
    include_validation: Annotated[bool, typer.Option("--include-validation", help="With --from-catalog: also train on faces of validation samples (left out by default; the model's card then says so, and the correction cannot use those labels to measure it).")] = False,
    backbone: Annotated[str, typer.Option("--backbone", help="dlib (offline default), vggface-vgg16 or vggface-resnet50.")] = "dlib",
    weights: Weights = None,
    fine_tune: Annotated[bool, typer.Option("--fine-tune", help="VGGFace only: also train the backbone's last block.")] = False,
    model_id: Annotated[Optional[str], typer.Option("--model-id", help="Name stored with every prediction (default: the --out folder's name).", show_default=False)] = None,
    test_share: Annotated[float, typer.Option("--test-share", help="Share of posters held out for the evaluation.")] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the splits and the training.")] = 0,
    base: Annotated[str, typer.Option("--base", help="Start from this model's training faces: `default` (the shipped "
        "model), a model folder with base_faces.npz, or `none` (your faces alone). With a base, the head is fitted on "
        "its faces plus yours, yours weighted by a factor chosen by grouped CV on your faces, and the base's CNNs are "
        "kept; the evaluation is on your held-out posters. dlib backbone only.")] = "default",
    workers: Workers = None,
) -> None:
    """Train a classifier head on labelled faces, evaluate it on held-out posters, write MODEL_DIR.

    Faces of one poster (file names <poster id>_<n>.jpg; in the catalogue, one item) never sit on
    both sides of a split. Examples:
    postercensus classify train ./faces-labelled --out models/gender;
    postercensus --home H classify train --from-catalog --out models/gender-v2
    """
    from postercensus.classify.models.backbones import make_backbone
    from postercensus.classify.models.head import HeadSettings
    from postercensus.classify.train.training import TrainOptions, save
    from postercensus.classify.train.training import train as train_model
    from postercensus.classify.train import domains
    from postercensus.classify.train.transfer import NO_BASE, load_base

    if (folder is None) == (not from_catalog):
        raise CommandError("give either a labelled FOLDER or --from-catalog (one of the two)")
    if include_validation and not from_catalog:
        raise CommandError("--include-validation needs --from-catalog (a folder has no validation samples)")
    context: Home = existing_home(ctx) if from_catalog else ctx.obj  # a folder needs no home
    writable_folder(out, "--out")
    console = Console(soft_wrap=True)
    errors: list[str] = []
    if fine_tune and backbone == "dlib":
        raise CommandError("--fine-tune needs a VGGFace backbone (--backbone vggface-vgg16 or vggface-resnet50)")
    chosen = make_backbone(backbone, weights, _weights_dirs(context))  # a missing weights file fails first
    if base != NO_BASE and backbone != "dlib":
        raise CommandError(f"--backbone {backbone} cannot start from a base model (its faces are dlib descriptors); "
                           "add --base none to train on your faces alone")
    start = load_base(base)
    if from_catalog:
        from postercensus.classify.label.catalogfaces import labelled_training_set, reads_descriptors, require_descriptors

        data = labelled_training_set(context.catalog.engine, context.path, include_validation)
        validation = data.source["validation_labels"]
        if not data.samples and validation["faces_left_out"]:  # say why, or the labels look lost
            raise CommandError(f"no training labels in the catalogue: {validation['faces_left_out']} face(s) with "
                               "validation labels were left out (add --include-validation to train on them, or label "
                               "training faces with `postercensus classify label`)")
        if not data.samples:
            raise CommandError("no labelled faces in the catalogue yet; label some with `postercensus classify label`")
        if reads_descriptors(chosen.name):
            require_descriptors(data.samples, "training on the dlib backbone",
                                "train with --backbone vggface-vgg16 or vggface-resnet50 (they read the crops), "
                                "or label faces of a face set detected after the purge")
        console.print(f"validation faces: {validation['faces']} trained on (--include-validation)" if include_validation
                      else f"validation faces: {validation['faces_left_out']} left out (add --include-validation to train on them)")
    else:
        data = _folder_set(folder, workers, console, errors)
    options = TrainOptions(head=HeadSettings(seed=seed), test_share=test_share, fine_tune=fine_tune)
    with progress_bar(console) as progress:
        trained = train_model(data, chosen, options, model_id or out.resolve().name, _steps(console, progress),
                              start)
    version = save(trained, out, data)
    from postercensus.classify.models.facesamples import found_faces_line
    from postercensus.classify.models.modelfolder import EVALUATION_PAGE
    from postercensus.classify.models.modelcard import Evaluation

    card = trained.card
    evaluation, baseline = card.evaluation or Evaluation(), card.baseline_fisherfaces or {}
    console.print(f"[bold]model[/bold] {card.name} version {version}: labels {', '.join(card.label_list)}")
    console.print(f"held-out posters ({evaluation.n} faces): accuracy {evaluation.accuracy:.3f}, "
                  f"balanced accuracy {evaluation.balanced_accuracy:.3f}; Fisherfaces baseline "
                  f"{baseline['accuracy']:.3f} / {baseline['balanced_accuracy']:.3f}")
    transfer = card.transfer
    if transfer is None:
        console.print("trained on your faces alone (--base none)")
    else:
        tried = ", ".join(f"{w}: {accuracy:.3f}" for w, accuracy in transfer["weights_tried"].items())
        console.print(f"started from {transfer['base']['model_id']} ({transfer['base_faces']} base faces); your faces "
                      f"weighted {transfer['own_weight']:g} (grouped-CV accuracy by weight: {tried})")
        refitted = next(iter((card.domains or {}).values()))
        before = refitted.recall_before_calibration or {}
        console.print(f"calibration refitted on {refitted.calibration_faces} of your faces' out-of-fold predictions "
                      f"(the base's does not carry over; used whatever domain you declare): "
                      f"{domains.calibration_summary(card, domains.DEFAULT_DOMAIN)}; held-out recall "
                      + ", ".join(f"{label} {before[label]:.3f} → {value:.3f}" for label, value in (refitted.recall or {}).items())
                      + f" (gap {refitted.recall_gap:+.3f})", markup=False)
        if transfer["held_out_faces_seen_by_base"]:
            console.print(f"warning: {transfer['held_out_faces_seen_by_base']} of the {evaluation.n} held-out faces are "
                          "images the base model was trained on; the held-out figures overstate how it does on new faces")
    if not from_catalog:
        console.print(found_faces_line(data.samples), markup=False)
    console.print(f"written: {out} (evaluation page: {out / EVALUATION_PAGE})")
    print_errors(console, errors)


@classify_app.command()
def evaluate(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="A model folder, or `default` (the shipped perceived-gender model).", show_default=False)],
    folder: Annotated[Path, typer.Argument(help="FOLDER/<label>/*.jpg with the model's labels.", show_default=False)],
    json_out: Annotated[Path, typer.Option("--json", help="Report to write (JSON).", show_default=False)],
    html_out: Annotated[Optional[Path], typer.Option("--html", help="Also write a self-contained HTML page with contact sheets.", show_default=False)] = None,
    threshold: Annotated[float, typer.Option("--threshold", help="Also report the confusion matrix with `uncertain` below this probability (0: argmax only).")] = 0.0,
    domain: Annotated[Optional[str], typer.Option("--domain", help="Evaluate with this domain's calibration from the model card: posters, paintings, scenes or photos (default: \\[classify] domain in postercensus.toml, else posters), as classify predict labels the catalogue.", show_default=False)] = None,
    weights: Weights = None,
    workers: Workers = None,
) -> None:
    """Evaluate a model on a labelled folder: accuracy, balanced accuracy, recall per label and their gap, confusion, calibration.

    Faces whose image trained the model are counted and warned about (training_overlap in the
    report), with the accuracy on the unseen faces alone beside the overall figure.

    Example: postercensus classify evaluate default ./nk-faces --json report.json --html report.html
    """
    from postercensus.catalog.settings import active_settings
    from postercensus.classify.activeset import ClassifySettings
    from postercensus.classify.models.classifier import load_classifier
    from postercensus.classify.train.domains import check_domain
    from postercensus.classify.train.evaluation import evaluation_report, write_evaluation
    from postercensus.classify.models.facesamples import found_faces_line
    from postercensus.classify.train.overlap import overlap_lines
    from postercensus.classify.train.report import calibration_words, gap_name

    context: Home = ctx.obj  # its weights folder and [classify] domain: no home is needed
    for path, option in ((json_out, "--json"), (html_out, "--html")):
        if path is not None:
            writable_file(path, option)
    try:
        domain = check_domain(domain or active_settings(context, ClassifySettings).domain)
    except ValueError as error:
        raise CommandError(str(error)) from error
    console = Console(soft_wrap=True)
    errors: list[str] = []
    classifier = load_classifier(model, weights, _weights_dirs(context))
    data = _folder_set(folder, workers, console, errors)
    with progress_bar(console) as progress:
        task = progress.add_task("classifying", total=len(data.samples))
        report = evaluation_report(classifier, data, folder, threshold or None, lambda n: progress.advance(task, n), domain)
    write_evaluation(report, data, f"{classifier.model_id} on {folder}", json_out, html_out)
    console.print(f"[bold]{classifier.model_id}[/bold] on {report['n']} faces: accuracy {report['accuracy']:.3f}, "
                  f"balanced accuracy {report['balanced_accuracy']:.3f}, ECE {report['ece']:.3f}")
    recalls = ", ".join(f"{label} {value:.3f}" for label, value in report["recall"].items())
    console.print(f"recall {recalls}; {gap_name(classifier.labels)} {report['recall_gap']:+.3f}; probabilities "
                  f"{calibration_words(report['calibration'], report['domain'])}", markup=False)
    console.print(found_faces_line(data.samples), markup=False)
    overlap = report["training_overlap"]
    for line in overlap_lines(overlap, report["n"]):
        console.print(line, style="yellow" if not overlap["known"] or overlap["count"] else None, markup=False)
    console.print(f"written: {json_out}" + (f" and {html_out}" if html_out else ""))
    print_errors(console, errors)


@classify_app.command()
def predict(
    ctx: typer.Context,
    model: Annotated[Optional[str], typer.Option("--model", help="A model folder, or `default` (the shipped perceived-gender model). Default: \\[classify] model in postercensus.toml, else `default`.", show_default=False)] = None,
    threshold: Annotated[Optional[float], typer.Option("--threshold", min=0.0, max=1.0, help="Faces whose top probability is below this get the label `uncertain` (0: always the top label). Default: \\[classify] threshold in postercensus.toml, else 0.", show_default=False)] = None,
    domain: Annotated[Optional[str], typer.Option("--domain", help="What the collection depicts: posters, paintings (portraits), scenes (faces in painted scenes) or photos (default: \\[classify] domain in postercensus.toml, else posters). Picks the model card's calibration (temperature and shift) and the held-out faces whose errors correct the shares; a changed domain predicts anew.", show_default=False)] = None,
    weights: Weights = None,
    activate: Annotated[bool, typer.Option("--activate", help="Make this model, threshold and domain the active predictions: written to \\[classify] in postercensus.toml, then used by refresh, analyze, export and both dashboards.")] = False,
) -> None:
    """Label every catalogue face this model version has not labelled yet (a changed threshold relabels).

    Options left out take the active settings (\\[classify] in postercensus.toml).
    Example: postercensus --home H classify predict --threshold 0.7 --domain paintings --activate
    """
    from dataclasses import replace

    from postercensus.catalog.settings import active_settings
    from postercensus.classify.train import domains
    from postercensus.classify.activeset import ClassifySettings
    from postercensus.classify.label.catalogfaces import PredictionStore
    from postercensus.classify.correction import corrected_shares
    from postercensus.classify.predictstage import PredictGenders

    context: Home = ctx.obj
    console = Console(soft_wrap=True)
    active = active_settings(context, ClassifySettings)
    chosen = {"model": model, "threshold": threshold, "domain": domain}
    try:
        settings = replace(active, **{key: value for key, value in chosen.items() if value is not None})
        existing_home(ctx)  # after the options' own checks, before the model is loaded
        stage = PredictGenders(settings, weights)
        named = stage.named(context)
    except ValueError as error:
        raise CommandError(str(error)) from error
    pending = stage.pending(context)
    calibration = (f", {settings.domain} calibration ({domains.calibration_summary(named.card, settings.domain)})"
                   if domains.has_domains(named.card) else "")
    console.print(f"model {named.model_id} version {named.version}{calibration}: {pending} face(s) to label")
    with progress_bar(console) as progress:
        task = progress.add_task("faces", total=pending)
        report = stage.run(context, lambda n: progress.advance(task, n))
    console.print(f"[bold]predictions[/bold]: {report.counts['predicted']} new, {report.counts['relabelled']} "
                  f"relabelled for threshold {settings.threshold}")
    store = PredictionStore(context.engine, context.path)
    totals = store.label_counts(named.model_id, named.version)
    registered = domains.with_applied_calibration(named.card, settings.domain)
    if domains.registered_held_out(registered) is not None and sum(totals.values()):
        estimate = corrected_shares(registered, totals, settings.threshold)
        for label in named.card.label_list:
            console.print(f"  {label}: {totals.get(label, 0)} faces, corrected share {estimate.corrected_share[label]:.3f} "
                          f"(95 % interval {estimate.ci_low[label]:.3f}–{estimate.ci_high[label]:.3f})")
    console.print(f"catalogue: {context.database_display}  (run #{report.run_id})")
    if activate:
        context.activate("classify", settings.to_config())
    state = "the active predictions" if settings == active_settings(context, ClassifySettings) else \
        "not the active predictions (the tables read [classify] in postercensus.toml; --activate uses these)"
    console.print(f"{named.model_id} {named.version}, threshold {settings.threshold}: {state}", markup=False,
                  highlight=False)
    print_errors(console, report.errors)


@classify_app.command()
def label(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    keys: Annotated[str, typer.Option("--keys", help="KEY=LABEL pairs for another label set; keep o=other for 'not a face'.")] = "f=female,m=male,o=other",
    validate: Annotated[Optional[int], typer.Option("--validate", min=1, help="Draw N more faces of the active face set at random into the validation sample (--sample) and label that sample, shown in random order without the model's prediction.", show_default=False)] = None,
    coder: Annotated[Optional[str], typer.Option("--coder", help="Your name, stored with every label (required for a validation sample; default for training: `labelling page`).", show_default=False)] = None,
    sample: Annotated[Optional[str], typer.Option("--sample", help="The validation sample to draw into and label (default with --validate: `validation`); without --validate, label an existing sample.", show_default=False)] = None,
    stratify: Annotated[Optional[str], typer.Option("--stratify", help="With --validate on a new sample: draw equally from each stratum of `predicted` (the active model's label) or `decade`; the design and weights are recorded.", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of a new sample's draws (an existing sample keeps its own).")] = 0,
) -> None:
    """Serve a local page to label faces by key: f female, m male, o other / not a face, s skip, u undo.

    Without --validate or --sample, faces are shown most uncertain first (for training), labels go
    to the catalogue, and `classify train --from-catalog` trains on them. With --validate N, N more
    faces are drawn at random into a validation sample and shown in random order without the
    model's prediction; their labels measure the model's errors and never train it. Stop with Ctrl-C.
    Examples: postercensus --home H classify label --validate 100 --coder ana;
    postercensus --home H classify label --sample validation --coder ben (a second coder);
    another label set: postercensus --home H classify label --keys w=worker,d=soldier,o=other
    """
    from postercensus.classify.label.labelserver import LABELLED_BY, LabellingServer

    pairs = [pair.split("=", 1) for pair in keys.split(",") if pair.strip()]
    if any(len(pair) != 2 or not pair[1].strip() for pair in pairs):
        raise CommandError(f"--keys must look like f=female,m=male,o=other (got {keys!r})")
    validating = validate is not None or sample is not None
    if validating and not (coder or "").strip():
        raise CommandError("a validation sample needs the coder's name", "add --coder YOUR_NAME")
    if stratify is not None and validate is None:
        raise CommandError("--stratify only applies to a validation draw", "add --validate N")
    context = existing_home(ctx)
    sample = (sample or "validation") if validating else None
    if validate is not None:
        _draw_validation(context, validate, sample, stratify, seed)
    elif sample is not None:
        from postercensus.classify.label.validation import sample_names

        if sample not in sample_names(context.catalog.engine):
            raise CommandError(f"no validation sample {sample!r} in this catalogue", "draw one with --validate N")
    try:
        server = LabellingServer(context.catalog.engine, context.path,
                                 keys={key.strip(): label.strip() for key, label in pairs}, port=port,
                                 coder=(coder or LABELLED_BY).strip(), validation_sample=sample)
    except ValueError as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        raise CommandError(f"cannot listen on 127.0.0.1:{port} ({error.strerror or error}); "
                           "choose another --port, or --port 0 for any free one") from error
    what = f"validation sample {sample}, coder {coder}" if sample else "training labels"
    Console(soft_wrap=True).print(f"labelling page ({what}): {server.url}  (Ctrl-C to stop; labels are saved as you go)",
                    markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _draw_validation(context: Home, n: int, sample: str, stratify: str | None, seed: int) -> None:
    """Draw into the sample from the active face set (stratified by the active model's labels)."""
    from postercensus.classify.label.validation import ValidationError, draw_sample
    from postercensus.homestatus import active_summary

    active = active_summary(context)
    if "error" in active:
        raise CommandError(active["error"])
    face_set = active["faces"]["parameter_hash"]
    if face_set is None:
        raise CommandError("no faces detected with the active [faces] settings yet",
                           "run `postercensus refresh` (or `faces detect`) first")
    classify = active["classify"]
    model = (classify["model_id"], classify["model_version"]) if classify["predicted"] else None
    try:
        report = draw_sample(context.catalog.engine, face_set, n, sample, seed, stratify, model)
    except ValidationError as error:
        raise CommandError(str(error)) from error
    strata = "; ".join(f"{name} {v['drawn']} of {v['population']} (weight {report.weights.get(name, 0):.2f})"
                       for name, v in report.strata.items())
    Console(soft_wrap=True).print(f"validation sample {report.sample} ({report.design}): {report.drawn} face(s) drawn, "
                    f"{report.size} of {report.population} in the sample" + (f"; strata: {strata}" if
                                                                             report.design == "stratified" else ""),
                    markup=False, highlight=False)


labels_app = CommandApp(
    help="Hand labels as CSV (code in a spreadsheet, import, export) and the agreement of several coders.",
    no_args_is_help=True,
)
classify_app.add_typer(labels_app, name="labels")


@labels_app.command("import")
def labels_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with face_id (or item, left, top, right, bottom), label, coder, purpose (validation or training), optional sample.", show_default=False)],
) -> None:
    """Import hand labels; a file with any bad row imports nothing, and importing it again changes nothing.

    A coder's label for a face and purpose replaces their earlier one; a coder named
    `adjudicated` settles disagreements. Rows with an empty label are faces not coded yet.
    Example: postercensus --home H classify labels import coding-ana.csv
    """
    from postercensus.classify.label.labelsio import import_labels

    context = existing_home(ctx)
    if not file.is_file():
        raise CommandError(f"{file} is not a file", "give the path of a CSV file")
    report = import_labels(context.catalog.engine, file)
    Console(soft_wrap=True).print(f"{file}: {report.line()}", markup=False, highlight=False)


@labels_app.command("export")
def labels_export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV to write.", show_default=False)],
    sample: Annotated[Optional[str], typer.Option("--sample", help="Write a coding sheet of this validation sample instead (its faces in random order, the crop's path, an empty label column), for --coder.", show_default=False)] = None,
    coder: Annotated[Optional[str], typer.Option("--coder", help="With --sample: the coder the sheet is for (their labels so far are filled in).", show_default=False)] = None,
) -> None:
    """Export every hand label (one row per coder, face and purpose), or a coding sheet of a sample.

    Examples: postercensus --home H classify labels export labels.csv;
    postercensus --home H classify labels export sheet-ben.csv --sample validation --coder ben
    """
    from postercensus.classify.label.labelsio import export_labels, export_template

    if (sample is None) != (coder is None):
        raise CommandError("--sample and --coder go together (a coding sheet is for one coder)")
    context = existing_home(ctx)
    writable_file(file, "FILE")
    if sample is None:
        rows = export_labels(context.catalog.engine, file)
    else:
        rows = export_template(context.catalog.engine, file, sample, coder)
    Console(soft_wrap=True).print(f"written: {file} ({rows} rows)", markup=False, highlight=False)


@labels_app.command("disagreements")
def labels_disagreements(
    ctx: typer.Context,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write an adjudication sheet: fill its label column and `classify labels import` it (coder `adjudicated`).", show_default=False)] = None,
) -> None:
    """Intercoder agreement (Krippendorff's alpha, percent agreement) and the faces coders disagree on.

    Example: postercensus --home H classify labels disagreements --out adjudicate.csv
    """
    from postercensus.classify.label.agreement import agreement_line, coding_agreement, disagreements, stored_codings
    from postercensus.classify.label.labelsio import export_disagreements

    context = existing_home(ctx)
    if out is not None:
        writable_file(out, "--out")
    console = Console(soft_wrap=True)
    engine = context.catalog.engine
    results = coding_agreement(engine)
    for result in results:
        console.print(agreement_line(result), markup=False, highlight=False)
    if not results:
        console.print("no face has labels from two coders yet: no agreement to report")
    table = disagreements(stored_codings(engine))
    for row in table.itertuples():
        console.print(f"face {row.face} ({row.purpose}): {row.codings}", markup=False, highlight=False)
    if out is not None:
        export_disagreements(out, table)
        console.print(f"written: {out} ({len(table)} faces to adjudicate)", markup=False, highlight=False)


def classifiers_summary(context: Home) -> list[dict]:
    """Per registered model, the faces per predicted label, for `postercensus status`."""
    from postercensus.classify.label.catalogfaces import PredictionStore

    return PredictionStore(context.catalog.engine, context.path).summary()
